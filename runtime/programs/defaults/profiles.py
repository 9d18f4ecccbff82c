"""Default profiles program: the problem classes the default router names, with solver and level.

A program file (loaded by path): it may import only the standard library and evolved_runtime.
Solver choice: Clingo answers pure finite-domain logic about 2.5x faster than Z3 (same verdicts
on tests/runtime/eval/questions.yaml); Z3 keeps arithmetic and orderings (reals, unique models).
The pipeline falls back to Z3 when Clingo's encoding does not apply to a problem.
"""

from __future__ import annotations

from evolved_runtime.programs.protocols import Profile

_LOGIC_PROMPT = (
    "Translate the user's question into SymIL JSON (docs/symil.md): premises, and the conclusion "
    "to test. Answer with the JSON only."
)
_PROFILES = {
    p.name: p
    for p in (
        Profile(name="default", description="anything else; the solver is the first that applies"),
        Profile(
            name="syllogism",
            description="quantified statements (all/no/some ... are ...) and facts about individuals",
            solver="clingo",
            system_prompt=_LOGIC_PROMPT,
        ),
        Profile(
            name="rules",
            description="if-then rules applied to facts",
            solver="clingo",
            system_prompt=_LOGIC_PROMPT,
        ),
        Profile(
            name="comparison",
            description="orderings: taller than, at least, equals, < and >",
            solver="z3",
            system_prompt=_LOGIC_PROMPT,
        ),
        Profile(
            name="arithmetic",
            description="numeric facts, equations and inequalities over integers and reals",
            solver="z3",
            system_prompt=_LOGIC_PROMPT + " Numeric unknowns go in `variables` with type int or real.",
        ),
        Profile(name="formal", description="SymIL JSON, SMT-LIB 2 or ASP in a fenced block (no translation)"),
    )
}


def get_profile(name: str) -> Profile:
    """The named profile; unknown names get the default one."""
    return _PROFILES.get(name, _PROFILES["default"])


def list_profiles() -> list[str]:
    return sorted(_PROFILES)
