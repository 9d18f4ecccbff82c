"""Pure: the traffic provider's verdicts for the conditions and ``status.traffic``."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.api_traffic import Mirror
from evolved_operator.conditions import Observation, VariantObservation, evaluate
from evolved_operator.render import PipelineInput
from evolved_operator.status import DeploymentState, traffic_events
from evolved_operator.traffic import PROVIDERS
from evolved_operator.traffic.observe import LeaseState, ParentState, RouteState, observe_lease, observe_route
from evolved_operator.traffic.status import TrafficObserved, mirror_state, traffic_status

NOW = "2026-12-06T12:00:00Z"
EARLIER = "2026-12-06T11:00:00Z"
ROLLED = DeploymentState(generation=2, observed_generation=2, replicas=2, ready=2, updated=2, available=2)
ACCEPTED = ("True", "Accepted", "")
RESOLVED = ("True", "ResolvedRefs", "")


def pipeline(traffic: dict[str, Any] | None = None) -> PipelineInput:
    doc: dict[str, Any] = {"variants": [{"name": "stable"}, {"name": "canary", "role": "candidate"}]}
    if traffic:
        doc["traffic"] = traffic
    return PipelineInput("qa", "ns", "u", 1, EvolvedPipelineSpec.model_validate(doc))


ROUTER_VERDICTS = {
    "no router Deployment yet": (None, ("RouterRollingOut", "waiting for the router: no Deployment yet")),
    "its controller has not seen the new spec": (
        DeploymentState(generation=3, observed_generation=2, replicas=2, ready=2, updated=2, available=2),
        ("RouterRollingOut", "waiting for the router: 2 updated, 2 available of 2"),
    ),
    "old router pods are left": (
        DeploymentState(generation=2, observed_generation=2, replicas=3, ready=3, updated=2, available=3),
        ("RouterRollingOut", "waiting for the router: 2 updated, 3 available of 3"),
    ),
    "no router pod is available": (
        DeploymentState(generation=2, observed_generation=2, replicas=1, ready=0, updated=1, available=0),
        ("RouterRollingOut", "waiting for the router: 1 updated, 0 available of 1"),
    ),
    "rolled out": (ROLLED, None),
}


@pytest.mark.parametrize(("router", "waiting"), list(ROUTER_VERDICTS.values()), ids=list(ROUTER_VERDICTS))
def test_the_router_provider_waits_for_its_deployment(
    router: DeploymentState | None, waiting: tuple[str, str] | None
) -> None:
    verdict = PROVIDERS["router"].verdict(pipeline(), TrafficObserved(router=router))
    assert (verdict.waiting, verdict.rejected) == (waiting, None)


def route(generation: int = 4, *parents: ParentState) -> RouteState:
    return RouteState(generation=generation, weights=(("stable", 90), ("canary", 10)), parents=parents)


GATEWAY_VERDICTS = {
    "no HTTPRoute seen yet": (None, ("WaitingForGateway", "no gateway has answered for HTTPRoute/qa yet"), None),
    "no gateway answered": (route(), ("WaitingForGateway", "no gateway has answered for HTTPRoute/qa yet"), None),
    "the gateway answered an older generation": (
        route(4, ParentState("Gateway/edge", ACCEPTED, RESOLVED, observed_generation=3)),
        ("WaitingForGateway", "the gateway has not accepted HTTPRoute/qa generation 4"),
        None,
    ),
    "accepted with resolved references": (route(4, ParentState("Gateway/edge", ACCEPTED, RESOLVED, 4)), None, None),
    "refused by the gateway: its message is kept": (
        route(4, ParentState("Gateway/edge", ("False", "NotAllowedByListeners", "no listener allows kind HTTPRoute"), None, 4)),
        None,
        ("RouteNotAccepted", "Gateway/edge on HTTPRoute/qa: NotAllowedByListeners: no listener allows kind HTTPRoute"),
    ),
    "a backend Service is missing": (
        route(4, ParentState("Gateway/edge", ACCEPTED, ("False", "BackendNotFound", "service qa-canary not found"), 4)),
        None,
        ("RouteRefsNotResolved", "Gateway/edge on HTTPRoute/qa: BackendNotFound: service qa-canary not found"),
    ),
    "one of two gateways refuses": (
        route(4, ParentState("Gateway/a", ACCEPTED, RESOLVED, 4), ParentState("Gateway/b", ("False", "NoMatchingParent", "x"), None, 4)),
        None,
        ("RouteNotAccepted", "Gateway/b on HTTPRoute/qa: NoMatchingParent: x"),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("seen", "waiting", "rejected"), list(GATEWAY_VERDICTS.values()), ids=list(GATEWAY_VERDICTS))
def test_the_gateway_provider_reflects_the_routes_conditions(
    seen: RouteState | None, waiting: tuple[str, str] | None, rejected: tuple[str, str] | None
) -> None:
    verdict = PROVIDERS["gatewayAPI"].verdict(pipeline(), TrafficObserved(route=seen))
    assert (verdict.waiting, verdict.rejected) == (waiting, rejected)


def test_a_refused_route_stalls_the_pipeline_with_the_gateways_message() -> None:
    done = VariantObservation("stable", desired_replicas=1, replicas=1, ready=1, updated=1, available=1, current=True)
    refused = ("RouteNotAccepted", "Gateway/edge on HTTPRoute/qa: NotAllowedByListeners: no listener")
    v = evaluate(Observation(generation=1, variants=[done], traffic_rejected=refused))
    assert v["Stalled"] == ("True", *refused)
    assert v["Ready"] == ("False", *refused)
    waiting = ("RouterRollingOut", "waiting for the router: no Deployment yet")
    v = evaluate(Observation(generation=1, variants=[done], traffic_waiting=waiting))
    assert (v["Ready"][0], v["Reconciling"], v["Stalled"][0]) == ("False", ("True", *waiting), "False")


CONFIRMED = {
    "router: what its Lease reports, at the router's time": (
        "router", TrafficObserved(lease=LeaseState("stable=90,canary=10", "2026-12-06T11:59:59.123456Z")),
        (None, None), ("stable=90,canary=10", "2026-12-06T11:59:59.123456Z"),
    ),
    "router: nothing reported yet keeps what was known": (
        "router", TrafficObserved(lease=LeaseState()), ("stable=100,canary=0", EARLIER), ("stable=100,canary=0", EARLIER),
    ),
    "gateway: accepted weights are confirmed now": (
        "gatewayAPI", TrafficObserved(route=route(4, ParentState("Gateway/e", ACCEPTED, RESOLVED, 4))),
        ("stable=100,canary=0", EARLIER), ("stable=90,canary=10", NOW),
    ),
    "gateway: the same weights keep their first confirmation time": (
        "gatewayAPI", TrafficObserved(route=route(4, ParentState("Gateway/e", ACCEPTED, RESOLVED, 4))),
        ("stable=90,canary=10", EARLIER), ("stable=90,canary=10", EARLIER),
    ),
    "gateway: a route not accepted at its generation confirms nothing new": (
        "gatewayAPI", TrafficObserved(route=route(5, ParentState("Gateway/e", ACCEPTED, RESOLVED, 4))),
        ("stable=100,canary=0", EARLIER), ("stable=100,canary=0", EARLIER),
    ),
    "service: the ready replicas are the split": ("service", TrafficObserved(), (None, None), ("stable=50,canary=50", NOW)),
}  # fmt: skip


@pytest.mark.parametrize(("provider", "observed", "before", "expected"), list(CONFIRMED.values()), ids=list(CONFIRMED))
def test_what_the_data_plane_confirmed(
    provider: str, observed: TrafficObserved, before: tuple[str | None, str | None], expected: tuple[str, str]
) -> None:
    weights = {"stable": 50, "canary": 50}
    assert PROVIDERS[provider].confirmed(weights, observed, before, NOW) == expected


def test_status_traffic_holds_weights_variants_mirror_and_confirmation() -> None:
    status = traffic_status(
        "router", {"stable": 90, "canary": 10}, Mirror(variant="canary", percent=20), {"stable": 2, "canary": 1},
        ("stable=90,canary=10", EARLIER),
    )  # fmt: skip
    assert status == {
        "provider": "router",
        "weights": "stable=90,canary=10",
        "variants": [{"name": "stable", "weight": 90}, {"name": "canary", "weight": 10}],
        "mirror": {"variant": "canary", "percent": 20, "state": "Active", "message": ""},
        "confirmedWeights": "stable=90,canary=10",
        "confirmedTime": EARLIER,
    }


def test_a_mirror_without_ready_pods_is_paused_and_says_why() -> None:
    state = mirror_state(Mirror(variant="canary", percent=20), {"stable": 2})
    assert state == {
        "variant": "canary",
        "percent": 20,
        "state": "Paused",
        "message": "variant canary has no ready pod: mirroring paused until it has one",
    }
    assert mirror_state(None, {}) is None


EVENTS = {
    "weights moved": (
        {"weights": "stable=100,canary=0"}, {"weights": "stable=90,canary=10"},
        [("Normal", "WeightsChanged", "traffic stable=100,canary=0 -> stable=90,canary=10")],
    ),
    "first weights: no event": ({}, {"weights": "stable=100"}, []),
    "mirror paused": (
        {"mirror": {"state": "Active"}}, {"mirror": {"state": "Paused", "message": "no ready pod"}},
        [("Warning", "MirrorPaused", "no ready pod")],
    ),
    "mirror resumed": (
        {"mirror": {"state": "Paused"}}, {"mirror": {"state": "Active", "variant": "canary"}},
        [("Normal", "MirrorResumed", "variant canary has a ready pod: mirroring again")],
    ),
    "nothing changed": ({"weights": "a=100", "mirror": {"state": "Active"}}, {"weights": "a=100", "mirror": {"state": "Active"}}, []),
}  # fmt: skip


@pytest.mark.parametrize(("before", "after", "events"), list(EVENTS.values()), ids=list(EVENTS))
def test_traffic_events(before: dict[str, Any], after: dict[str, Any], events: list[tuple[str, str, str]]) -> None:
    assert traffic_events(before, after) == events


def test_the_cache_keeps_the_routers_report_and_the_routes_verdicts() -> None:
    lease = {
        "metadata": {"annotations": {"pipelines.evolved.io/router-weights": "stable=90,canary=10"}},
        "spec": {"renewTime": "2026-12-06T11:59:59.123456Z"},
    }
    assert observe_lease(lease) == LeaseState("stable=90,canary=10", "2026-12-06T11:59:59.123456Z")
    assert observe_lease({"metadata": {}}) == LeaseState()
    http_route = {
        "metadata": {"generation": 4, "labels": {"pipelines.evolved.io/pipeline": "qa"}},
        "spec": {
            "rules": [{"backendRefs": [{"name": "qa-stable", "weight": 90}, {"name": "qa-canary", "weight": 10}]}]
        },
        "status": {
            "parents": [
                {
                    "parentRef": {"name": "edge"},
                    "conditions": [
                        {"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": 4},
                        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "observedGeneration": 4},
                    ],
                }
            ]
        },
    }
    assert observe_route(http_route) == route(4, ParentState("Gateway/edge", ACCEPTED, RESOLVED, 4))
