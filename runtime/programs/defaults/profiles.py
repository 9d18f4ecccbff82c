"""Default profiles program: the problem classes the default router and translation know.

A program file (loaded by path): it may import only the standard library and evolved_runtime.
"""

from __future__ import annotations

from evolved_runtime.programs.protocols import Profile

_PROFILES = {
    "default": Profile(name="default", description="anything; the router decides per request"),
    "logic": Profile(name="logic", description="syllogisms, comparisons, numeric facts, equations, rules", level=1),
    "formal": Profile(name="formal", description="SymIL JSON, SMT-LIB 2 or ASP in a fenced block", level=1),
    "chat": Profile(name="chat", description="open questions answered by the LLM (Tier 0)"),
}


def get_profile(name: str) -> Profile:
    """The named profile; unknown names get the default one."""
    return _PROFILES.get(name, _PROFILES["default"])


def list_profiles() -> list[str]:
    return sorted(_PROFILES)
