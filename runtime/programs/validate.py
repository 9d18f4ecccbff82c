"""Turn what a program returned into the type the pipeline needs, or say clearly what is wrong.

Shared by the isolated check (smoke tests) and the pipeline (every request), so a program that
passes the check is held to the same rules in production.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from evolved_runtime.programs.protocols import Profile, RoutingDecision
from evolved_runtime.symil.models import Problem

M = TypeVar("M", bound=BaseModel)


class ProgramResultError(ValueError):
    """A program returned something of the wrong type or shape."""


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:3])


def _coerce(raw: Any, model: type[M], call: str) -> M:
    if isinstance(raw, model):
        return raw
    if not isinstance(raw, dict):
        raise ProgramResultError(
            f"{call} returned {type(raw).__name__}, expected {model.__name__} (or a dict of its fields)"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ProgramResultError(f"{call} returned an invalid {model.__name__}: {_errors(exc)}") from exc


def as_decision(raw: Any) -> RoutingDecision:
    return _coerce(raw, RoutingDecision, "route()")


def as_profile(raw: Any, name: str) -> Profile:
    return _coerce(raw, Profile, f"get_profile({name!r})")


def as_problem(raw: Any) -> Problem | None:
    """None stays None ("cannot translate"); a dict is read as SymIL JSON."""
    if raw is None:
        return None
    return _coerce(raw, Problem, "translate()")


def as_names(raw: Any) -> list[str]:
    if not isinstance(raw, list | tuple) or not all(isinstance(n, str) for n in raw):
        raise ProgramResultError(f"list_profiles() returned {type(raw).__name__}, expected a list of names")
    return list(raw)
