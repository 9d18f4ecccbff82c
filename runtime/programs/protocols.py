"""The interface of evolved programs: what OpenEvolve's `best_program.py` per component must offer.

Programs are plain Python modules with module-level functions; these Protocols describe them
for type checkers, `evolved-runtime check` and docs/programs.md.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from evolved_runtime.symil.models import Problem

COMPONENTS = ("router", "translation", "profiles")
MAX_LEVEL = 3
Solver = Literal["z3", "clingo"]


class RoutingDecision(BaseModel):
    """Where a request goes: Tier 0 (LLM), 1 (translate + one solver) or 2 (solver portfolio).

    ``symil_level`` is the translation level to start at; left unset, the profile's level applies.
    ``preferred_solver`` left unset: the profile's solver, else the first applicable one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Literal[0, 1, 2]
    symil_level: int = Field(default=1, ge=1, le=MAX_LEVEL)
    profile_name: str = "default"
    preferred_solver: Solver | None = None


class Profile(BaseModel):
    """A problem class: which solver and SymIL level suit it, and how to prompt an LLM for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    solver: Solver | None = None
    level: int = Field(default=1, ge=1, le=MAX_LEVEL)
    system_prompt: str = ""


class LLMHandle(Protocol):
    """Synchronous LLM access handed to translation programs (they run in a worker thread)."""

    def complete(self, prompt: str, system: str | None = None) -> str:
        """The LLM's reply to one user message; raises LLMError when the provider fails."""
        ...


class RouterProgram(Protocol):
    def route(self, prompt: str, context: dict[str, Any]) -> RoutingDecision | dict[str, Any]:
        """Decide tier, level, profile and solver for ``prompt`` (the last user message).

        ``context``: ``tier`` (the caller's hint, if any) and ``history`` (earlier messages).
        """
        ...


class TranslationProgram(Protocol):
    def translate(
        self, prompt: str, level: int, hints: dict[str, Any], llm: LLMHandle | None
    ) -> Problem | dict[str, Any] | None:
        """SymIL for ``prompt`` at ``level`` (1..3), or None when it cannot translate with confidence."""
        ...


class ProfilesProgram(Protocol):
    def get_profile(self, name: str) -> Profile | dict[str, Any]:
        """The profile called ``name``; every name the router returns must be answered."""
        ...

    def list_profiles(self) -> list[str]: ...
