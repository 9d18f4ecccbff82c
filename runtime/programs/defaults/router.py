"""Default router program: formal input and controlled-English logic go to the solvers, the rest to the LLM.

A program file (loaded by path): it may import only the standard library and evolved_runtime.
"""

from __future__ import annotations

import re
from typing import Any

from evolved_runtime.programs.protocols import RoutingDecision

_FENCE = re.compile(r"```\s*(symil|json|smt2|smtlib|smt|lisp|asp|lp|clingo)\b", re.IGNORECASE)
_LOGIC = re.compile(
    r"\b(therefore|thus|hence|it follows|does it follow|all|every|no|some|none)\b.*\b(are|is)\b"
    r"|\bis\s+\w+\s+an?\s+\w+\s*\?"
    r"|\bsolve\b"
    r"|\b(less|greater|more|fewer|smaller|larger|taller|shorter|older|younger|heavier|lighter)\s+than\b"
    r"|\b(equals?|is equal to)\b"
    r"|\bif\b.+\bthen\b"
    r"|\bcan\s+\w+\s+be\s+\w+"
    r"|\bmust be\b",
    re.IGNORECASE | re.DOTALL,
)
_SOLVER_BY_FENCE = {
    "smt2": "z3",
    "smtlib": "z3",
    "smt": "z3",
    "lisp": "z3",
    "asp": "clingo",
    "lp": "clingo",
    "clingo": "clingo",
}


def route(prompt: str, context: dict[str, Any]) -> RoutingDecision:
    """Formal fenced input -> Tier 1; logic or arithmetic cues -> Tier 1; anything else -> Tier 0.

    ``context`` may carry ``{"tier": 0|1|2}`` (a caller's hint, e.g. request metadata).
    """
    hint = context.get("tier")
    fence = _FENCE.search(prompt)
    if fence:
        solver = _SOLVER_BY_FENCE.get(fence.group(1).lower())
        tier = hint if hint in (1, 2) else 1
        return RoutingDecision.model_validate({"tier": tier, "profile_name": "formal", "preferred_solver": solver})
    if hint in (0, 1, 2):
        return RoutingDecision(tier=hint, profile_name="default")
    if _LOGIC.search(prompt):
        return RoutingDecision(tier=1, profile_name="logic")
    return RoutingDecision(tier=0, profile_name="chat")
