"""Pure: what the operator keeps of the traffic children it watches (the router's Lease, the
HTTPRoute), small records cheap to hold in the informer cache."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evolved_operator.constants import LABEL_PIPELINE
from evolved_operator.traffic.router_objects import WEIGHTS_ANNOTATION


@dataclass(frozen=True)
class LeaseState:
    """The router's report: the weights it applies and when it said so."""

    weights: str | None = None
    renew_time: str | None = None


@dataclass(frozen=True)
class ParentState:
    """One parent Gateway's verdict on the route (the Accepted and ResolvedRefs conditions)."""

    parent: str
    accepted: tuple[str, str, str] | None = None  # (status, reason, message)
    resolved: tuple[str, str, str] | None = None
    observed_generation: int = 0


@dataclass(frozen=True)
class RouteState:
    generation: int = 0
    weights: tuple[tuple[str, int], ...] = ()  # (variant, weight) as the route's spec holds them
    parents: tuple[ParentState, ...] = ()


def observe_lease(obj: Mapping[str, Any]) -> LeaseState:
    meta = obj.get("metadata") or {}
    weights = (meta.get("annotations") or {}).get(WEIGHTS_ANNOTATION)
    renew = (obj.get("spec") or {}).get("renewTime")
    return LeaseState(weights=str(weights) if weights else None, renew_time=str(renew) if renew else None)


def _condition(conditions: list[Mapping[str, Any]], kind: str) -> tuple[str, str, str] | None:
    for c in conditions:
        if c.get("type") == kind:
            return (str(c.get("status", "Unknown")), str(c.get("reason", "")), str(c.get("message", "")))
    return None


def _generation(conditions: list[Mapping[str, Any]]) -> int:
    values = [c.get("observedGeneration") for c in conditions]
    return min((v for v in values if isinstance(v, int)), default=0)


def observe_route(obj: Mapping[str, Any]) -> RouteState:
    meta = obj.get("metadata") or {}
    prefix = f"{(meta.get('labels') or {}).get(LABEL_PIPELINE, '')}-"
    rules = (obj.get("spec") or {}).get("rules") or []
    backends = [b for rule in rules for b in rule.get("backendRefs") or []]
    weights = tuple(
        (str(b.get("name", "")).removeprefix(prefix), int(b.get("weight", 1)))
        for b in backends
        if isinstance(b.get("weight", 1), int)
    )
    parents = []
    for parent in (obj.get("status") or {}).get("parents") or []:
        ref = parent.get("parentRef") or {}
        conditions = parent.get("conditions") or []
        parents.append(
            ParentState(
                parent=f"{ref.get('kind', 'Gateway')}/{ref.get('name', '')}",
                accepted=_condition(conditions, "Accepted"),
                resolved=_condition(conditions, "ResolvedRefs"),
                observed_generation=_generation(conditions),
            )
        )
    generation = meta.get("generation")
    return RouteState(
        generation=generation if isinstance(generation, int) else 0, weights=weights, parents=tuple(parents)
    )
