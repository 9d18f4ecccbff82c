"""The interface of evolved programs: what OpenEvolve's `best_program.py` per component must offer.

Programs are plain Python modules with module-level functions; these Protocols describe them
for type checkers and for `evolved-runtime check`.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from evolved_runtime.symil.models import Problem

COMPONENTS = ("router", "translation", "profiles")
Solver = Literal["z3", "clingo"]


class RoutingDecision(BaseModel):
    """Where a request goes: Tier 0 (LLM), 1 (translate + one solver) or 2 (solver portfolio)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Literal[0, 1, 2]
    symil_level: int = Field(default=1, ge=1, le=3)
    profile_name: str = "default"
    preferred_solver: Solver | None = None


class Profile(BaseModel):
    """A problem class: how to prompt for it, which solver and which SymIL level to start at."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    solver: Solver | None = None
    level: int = Field(default=1, ge=1, le=3)
    system_prompt: str = ""


class LLMHandle(Protocol):
    """Synchronous LLM access handed to translation programs (they run in a worker thread)."""

    def complete(self, prompt: str, system: str | None = None) -> str: ...


class RouterProgram(Protocol):
    def route(self, prompt: str, context: dict[str, Any]) -> RoutingDecision | dict[str, Any]: ...


class TranslationProgram(Protocol):
    def translate(self, prompt: str, level: int, hints: dict[str, Any], llm: LLMHandle | None) -> Problem | None: ...


class ProfilesProgram(Protocol):
    def get_profile(self, name: str) -> Profile | dict[str, Any]: ...

    def list_profiles(self) -> list[str]: ...
