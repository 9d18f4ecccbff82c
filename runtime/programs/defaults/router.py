"""Default router program: formal input and controlled-English logic go to the solvers, the rest to the LLM.

A program file (loaded by path): it may import only the standard library and evolved_runtime.
Routing to Tier 1 by mistake costs little (the translation finds nothing and the pipeline
escalates); routing logic to Tier 0 by mistake costs an LLM call, so the cues are generous.
"""

from __future__ import annotations

import re
from typing import Any

from evolved_runtime.programs.protocols import RoutingDecision

_I = re.IGNORECASE
_FENCE = re.compile(r"```[ \t]*(symil|json|smt2|smtlib2?|smt-lib|smt|lisp|asp|lp|clingo)\b", _I)
_SOLVER_BY_KIND = {"smtlib": "z3", "asp": "clingo"}
_SOLVER_BY_FENCE = {"smt2": "z3", "smtlib": "z3", "smtlib2": "z3", "smt-lib": "z3", "smt": "z3", "lisp": "z3",
                    "asp": "clingo", "lp": "clingo", "clingo": "clingo"}  # fmt: skip

_CONCLUSION = re.compile(
    r"\b(therefore|thus|hence|consequently|it follows|does it follow|can we (conclude|infer|deduce)"
    r"|is it (necessarily )?(true|the case) that|must it be)\b",
    _I,
)
_TITLE = r"\b(?:Mr|Mrs|Ms|Dr|Prof)\."
_QUESTION_AFTER_FACTS = re.compile(
    r"[.!:\n]\s*(\d+\.\s*)?(question:\s*)?(is|are|does|do|did|can|could|may|must|was|were|has|have|will)\b"
    rf"(?![^.?!]*\b(you|me|please)\b)(?:{_TITLE}|[^.?!])*\?",
    _I,
)
_QUANTIFIED = re.compile(
    r"\b(all|every|each|no|some|none of|not all|only|everyone|everything|anything|nothing|at least one"
    r"|there (are|is))\b[^.?!\n]*?\b(are|is|am|have|has|can|cannot|can't|do|does|must|breathes?)\b",
    _I,
)
_CONSISTENCY = re.compile(r"\b(consistent|satisfiable|be true (together|at once))\b", _I)
_RULE = re.compile(r"\bif\b[^.?!]*\bthen\b", _I)
_IF = re.compile(r"\bif\b", _I)
_ARITHMETIC = re.compile(
    r"\bsolve\b|\b(find|is there)\b[^.?!]*\b(such that|where|with)\b|\bwhat (is|are) [a-z]\b|\b\d+[a-z]\b", _I
)
_NUMBER = re.compile(
    r"\b\d|\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|twice|half|double|triple|sum|product"
    r"|times|plus|minus)\b",
    _I,
)
_COMPARISON = re.compile(
    r"\b\w+er than\b|\b(more|less|fewer) (\w+ )?than\b|\bas \w+ as\b|\bat (least|most)\b(?! one\b)|\bequals?\b"
    r"|\bis equal to\b|[=<>≤≥]",
    _I,
)


def classify(prompt: str) -> str | None:
    """The problem class (a profile name) of a logic or arithmetic question; None for anything else."""
    arithmetic = bool(_ARITHMETIC.search(prompt))
    numeric = bool(_NUMBER.search(prompt))
    comparison = bool(_COMPARISON.search(prompt))
    logic = bool(
        _CONCLUSION.search(prompt)
        or _QUESTION_AFTER_FACTS.search(prompt)
        or _QUANTIFIED.search(prompt)
        or _CONSISTENCY.search(prompt)
        or _RULE.search(prompt)
    )
    if arithmetic or (numeric and (comparison or logic) and not _QUANTIFIED.search(prompt)):
        return "arithmetic"
    if comparison and logic:
        return "comparison"
    if logic and (_RULE.search(prompt) or _IF.search(prompt)):
        return "rules"
    if logic:
        return "syllogism"
    return None


def route(prompt: str, context: dict[str, Any]) -> RoutingDecision:
    """Formal input -> Tier 1 (its solver); logic or arithmetic cues -> Tier 1; anything else -> Tier 0.

    ``context`` may carry ``tier`` (0, 1 or 2: a caller's hint from the request) and ``formal``
    (the kind of formal input the pipeline found: "symil", "smtlib" or "asp").
    """
    hint = context.get("tier")
    kind = context.get("formal")
    fence = _FENCE.search(prompt) if kind is None else None
    if kind is not None or fence is not None:
        solver = _SOLVER_BY_KIND.get(kind or "") if fence is None else _SOLVER_BY_FENCE.get(fence.group(1).lower())
        return RoutingDecision.model_validate(
            {"tier": 2 if hint == 2 else 1, "profile_name": "formal", "preferred_solver": solver}
        )
    profile = classify(prompt)
    if hint in (0, 1, 2):
        return RoutingDecision.model_validate({"tier": hint, "profile_name": profile or "default"})
    if profile is None:
        return RoutingDecision(tier=0, profile_name="default")
    return RoutingDecision(tier=1, profile_name=profile)
