"""Pure: the traffic part of a pipeline's status and what its conditions need from it.

``status.traffic`` holds the effective weights (the router reads them from here), the mirror's
state and what the data plane last confirmed: the router through its Lease, a gateway through the
HTTPRoute's ``Accepted`` condition for the route's current generation, and for provider
``service`` the ready replicas themselves (the split is what they are).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evolved_operator.api_traffic import Mirror
from evolved_operator.status import DeploymentState
from evolved_operator.traffic.observe import LeaseState, RouteState
from evolved_operator.traffic.weights import summary


@dataclass(frozen=True)
class TrafficObserved:
    """The traffic children as the cache holds them (None: not there or not watched)."""

    router: DeploymentState | None = None
    lease: LeaseState | None = None
    route: RouteState | None = None


@dataclass(frozen=True)
class TrafficVerdict:
    """For the conditions: ``waiting`` (Reconciling, the entry point is not serving as declared
    yet) or ``rejected`` (Stalled: the gateway refused the route), each as (reason, message)."""

    waiting: tuple[str, str] | None = None
    rejected: tuple[str, str] | None = None


def router_rolled_out(router: DeploymentState | None) -> bool:
    """The router Deployment's controller saw its spec, no old pod is left and one pod serves."""
    if router is None or router.observed_generation < router.generation:
        return False
    return router.available >= 1 and router.updated == router.replicas


def router_verdict(observed: TrafficObserved) -> TrafficVerdict:
    if router_rolled_out(observed.router):
        return TrafficVerdict()
    router = observed.router
    detail = (
        "no Deployment yet"
        if router is None
        else f"{router.updated} updated, {router.available} available of {router.replicas}"
    )
    return TrafficVerdict(waiting=("RouterRollingOut", f"waiting for the router: {detail}"))


def route_verdict(observed: TrafficObserved, route_name: str) -> TrafficVerdict:
    route = observed.route
    if route is None or not route.parents:
        return TrafficVerdict(waiting=("WaitingForGateway", f"no gateway has answered for HTTPRoute/{route_name} yet"))
    for parent in route.parents:
        for condition, reason in ((parent.accepted, "RouteNotAccepted"), (parent.resolved, "RouteRefsNotResolved")):
            if condition is not None and condition[0] == "False":
                return TrafficVerdict(
                    rejected=(reason, f"{parent.parent} on HTTPRoute/{route_name}: {condition[1]}: {condition[2]}")
                )
    if any(p.observed_generation < route.generation or p.accepted is None for p in route.parents):
        return TrafficVerdict(
            waiting=(
                "WaitingForGateway",
                f"the gateway has not accepted HTTPRoute/{route_name} generation {route.generation}",
            )
        )
    return TrafficVerdict()


Confirmed = tuple[str | None, str | None]  # (weights summary, time)


def router_confirmed(observed: TrafficObserved, before: Confirmed) -> Confirmed:
    """What the router last reported on its Lease."""
    lease = observed.lease
    if lease is not None and lease.weights is not None:
        return lease.weights, lease.renew_time or before[1]
    return before


def seen_confirmed(shown: str | None, before: Confirmed, now: str) -> Confirmed:
    """A data plane without a clock of its own: confirmed ``now`` when what it shows changed."""
    if shown is None:
        return before
    return (shown, before[1]) if shown == before[0] and before[1] else (shown, now)


def route_confirmed(observed: TrafficObserved, before: Confirmed, now: str) -> Confirmed:
    """The weights of a route every parent gateway accepted at its current generation."""
    verdict = route_verdict(observed, "")
    if observed.route is None or verdict.waiting or verdict.rejected:
        return before
    return seen_confirmed(summary(dict(observed.route.weights)), before, now)


def mirror_state(mirror: Mirror | None, ready: Mapping[str, int]) -> dict[str, Any] | None:
    if mirror is None:
        return None
    state: dict[str, Any] = {"variant": mirror.variant, "percent": mirror.percent, "state": "Active", "message": ""}
    if ready.get(mirror.variant, 0) <= 0:
        state["state"] = "Paused"
        state["message"] = f"variant {mirror.variant} has no ready pod: mirroring paused until it has one"
    return state


def traffic_status(
    provider: str,
    weights: Mapping[str, int],
    mirror: Mirror | None,
    ready: Mapping[str, int],
    confirmed: Confirmed,
) -> dict[str, Any]:
    """``status.traffic``; ``confirmed`` comes from the provider."""
    confirmed_weights, confirmed_time = confirmed
    out: dict[str, Any] = {
        "provider": provider,
        "weights": summary(weights),
        "variants": [{"name": name, "weight": weight} for name, weight in weights.items()],
        "mirror": mirror_state(mirror, ready),
        "confirmedWeights": confirmed_weights,
        "confirmedTime": confirmed_time,
    }
    return {k: v for k, v in out.items() if v is not None}
