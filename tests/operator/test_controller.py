"""The Controller against an in-memory Kube: what it applies and the status it writes for traffic.

The apiserver's own behaviour is covered by the cluster tests; here the fake records writes, and
watch events are fed back by hand, as the informer would.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from evolved_operator.analysis.wiring import Plain
from evolved_operator.controller import Controller
from evolved_operator.program_check import ProgramChecker, sources_hash
from tests.operator.specs import two_variants


class MemoryKube:
    """:class:`evolved_operator.kube.Kube` in memory: applied objects by (kind, name), status patches."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []

    async def apply(self, obj: dict[str, Any]) -> None:
        self.objects[(obj["kind"], obj["metadata"]["name"])] = copy.deepcopy(obj)

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        self.objects.pop((kind, name), None)

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, name))

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.statuses.append(copy.deepcopy(status))


def body(traffic: dict[str, Any] | None = None, **weights: int) -> dict[str, Any]:
    return {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": "qa", "namespace": "ns", "uid": "u-1", "generation": 1},
        "spec": two_variants(traffic, **weights),
    }


def ready_deployment(obj: dict[str, Any], ready: int = 1) -> dict[str, Any]:
    """A Deployment as its controller reports it once rolled out with ``ready`` pods."""
    seen = copy.deepcopy(obj)
    seen["metadata"]["generation"] = 1
    seen["status"] = {
        "observedGeneration": 1,
        "replicas": ready,
        "readyReplicas": ready,
        "updatedReplicas": ready,
        "availableReplicas": ready,
    }
    return seen


async def settle(controller: Controller, kube: MemoryKube, ready: dict[str, int]) -> dict[str, Any]:
    """Feed every applied object back as the watch would, Deployments ready; return the last status."""
    for (kind, name), obj in list(kube.objects.items()):
        if kind == "Deployment":
            variant = name.removeprefix("qa-")
            obj = ready_deployment(obj, ready.get(variant, 1))
        await controller.child_changed(obj, deleted=False)
    await controller.refresh_status(("ns", "qa"))
    return kube.statuses[-1]


def controller(kube: MemoryKube) -> Controller:
    return Controller(kube=kube, post_event=_no_event, checker=ProgramChecker(), status_delay=0.0, status_delay_max=0.0)


async def _no_event(body: dict[str, Any], kind: str, reason: str, message: str) -> None:
    return None


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def condition(status: dict[str, Any], kind: str) -> tuple[str, str]:
    found = next(c for c in status["conditions"] if c["type"] == kind)
    return found["status"], found["reason"]


def test_the_router_provider_writes_weights_to_status_and_is_ready_once_the_router_runs() -> None:
    async def scenario() -> dict[str, Any]:
        kube = MemoryKube()
        ctrl = controller(kube)
        await ctrl.pipeline_changed(body(stable=90, canary=10))
        assert ("Deployment", "qa-router") in kube.objects
        return await settle(ctrl, kube, {})

    status = run(scenario())
    assert status["traffic"]["weights"] == "stable=90,canary=10"
    assert status["traffic"]["variants"] == [{"name": "stable", "weight": 90}, {"name": "canary", "weight": 10}]
    assert condition(status, "Ready") == ("True", "AllVariantsAvailable")


def test_the_router_confirms_the_weights_through_its_lease() -> None:
    async def scenario() -> dict[str, Any]:
        kube = MemoryKube()
        ctrl = controller(kube)
        await ctrl.pipeline_changed(body())
        lease = copy.deepcopy(kube.objects[("Lease", "qa-router")])
        lease["metadata"]["annotations"]["pipelines.evolved.io/router-weights"] = "stable=100,canary=0"
        lease["spec"] = {"renewTime": "2026-12-06T12:00:00.000001Z"}
        kube.objects[("Lease", "qa-router")] = lease
        return await settle(ctrl, kube, {})

    status = run(scenario())
    assert status["traffic"]["confirmedWeights"] == "stable=100,canary=0"
    assert status["traffic"]["confirmedTime"] == "2026-12-06T12:00:00.000001Z"


def test_provider_service_reports_the_shares_of_ready_replicas() -> None:
    async def scenario() -> dict[str, Any]:
        kube = MemoryKube()
        ctrl = controller(kube)
        await ctrl.pipeline_changed(body({"provider": "service"}))
        return await settle(ctrl, kube, {"stable": 3, "canary": 1})

    status = run(scenario())
    assert status["traffic"]["weights"] == "stable=75,canary=25"
    assert status["traffic"]["confirmedWeights"] == "stable=75,canary=25"


def test_a_gateway_pipeline_waits_for_the_gateway_and_stalls_when_the_cluster_lacks_the_gateway_api() -> None:
    gateway = {"provider": "gatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "edge"}]}}

    async def waiting() -> dict[str, Any]:
        kube = MemoryKube()
        ctrl = controller(kube)
        await ctrl.pipeline_changed(body(gateway))
        assert ("HTTPRoute", "qa") in kube.objects
        return await settle(ctrl, kube, {})

    status = run(waiting())
    assert condition(status, "Reconciling") == ("True", "WaitingForGateway")
    assert condition(status, "Ready")[0] == "False"

    async def unserved() -> tuple[dict[str, Any], MemoryKube]:
        kube = MemoryKube()
        ctrl = controller(kube)
        ctrl.unserved_kinds = frozenset({"HTTPRoute"})
        await ctrl.pipeline_changed(body(gateway))
        return kube.statuses[-1], kube

    status, kube = run(unserved())
    assert condition(status, "Stalled") == ("True", "GatewayAPINotInstalled")
    assert kube.objects == {}, "nothing is applied while a child cannot be"


@pytest.mark.parametrize(
    ("ready", "filtered"), [({"stable": 1, "canary": 1}, True), ({"stable": 1, "canary": 0}, False)]
)
def test_the_gateways_mirror_filter_follows_the_mirror_variants_readiness(
    ready: dict[str, int], filtered: bool
) -> None:
    traffic = {
        "provider": "gatewayAPI",
        "gatewayAPI": {"parentRefs": [{"name": "edge"}]},
        "mirror": {"variant": "canary", "percent": 10},
    }

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        kube = MemoryKube()
        ctrl = controller(kube)
        await ctrl.pipeline_changed(body(traffic))
        status = await settle(ctrl, kube, ready)
        return status, kube.objects[("HTTPRoute", "qa")]

    status, route = run(scenario())
    assert ("filters" in route["spec"]["rules"][0]) is filtered
    assert status["traffic"]["mirror"]["state"] == ("Active" if filtered else "Paused")


def canary_body(generation: int = 1, **strategy: Any) -> dict[str, Any]:
    doc = body()
    doc["metadata"]["generation"] = generation
    doc["spec"]["variants"][1]["programs"] = {
        "router": {"inline": "from evolved_runtime.programs.defaults.router import route  # gen 2\n"}
    }
    doc["spec"]["variants"][1]["replicas"] = 1
    doc["spec"]["variants"][0]["replicas"] = 2
    doc["spec"]["strategy"] = {"type": "Canary", "steps": [{"setWeight": 50}, {"pause": {}}], **strategy}
    return doc


def program_hash_of(kube: MemoryKube, name: str) -> str:
    template = kube.objects[("Deployment", name)]["spec"]["template"]
    return str(template["metadata"]["annotations"]["pipelines.evolved.io/program-hash"])


async def visits(ctrl: Controller, kube: MemoryKube, count: int = 4) -> dict[str, Any]:
    """Let the controller act on what it applied a few times (watch events and requeues, by hand)."""
    for _ in range(count):
        await settle(ctrl, kube, {"stable": 2, "canary": 2})
        await asyncio.gather(*list(ctrl._tasks))
    return kube.statuses[-1]


def test_a_canary_walks_its_steps_pauses_and_is_promoted_then_traffic_returns_to_stable() -> None:
    async def scenario() -> list[dict[str, Any]]:
        kube = MemoryKube()
        ctrl = controller(kube)
        await ctrl.pipeline_changed(canary_body())
        paused = await visits(ctrl, kube)
        await ctrl.pipeline_changed(canary_body(2, promote=True))
        promoting = await visits(ctrl, kube, 1)
        stable_programs = program_hash_of(kube, "qa-stable")
        done = await visits(ctrl, kube)
        assert stable_programs == program_hash_of(kube, "qa-canary"), "stable rolls to the candidate's programs"
        return [paused, promoting, done]

    paused, promoting, done = run(scenario())
    assert paused["rollout"]["phase"] == "Paused"
    assert paused["traffic"]["weights"] == "stable=50,canary=50"
    assert promoting["rollout"]["phase"] in ("Promoting", "Completed")
    assert done["rollout"]["phase"] == "Completed"
    assert done["traffic"]["weights"] == "stable=100,canary=0"
    assert "declare them for stable in Git" in done["rollout"]["message"]


def test_a_failed_analysis_rolls_back_at_once_and_stalls_with_the_measured_values() -> None:
    async def failing(settings: Any, namespace: str, name: str, stable: str, candidate: str) -> Plain:
        return Plain("Failed", "error rate 20.0% > 5.0%")

    async def scenario() -> dict[str, Any]:
        kube = MemoryKube()
        ctrl = controller(kube)
        ctrl.analyze = failing
        times = iter(f"2026-12-06T12:{minute:02d}:00Z" for minute in range(60))
        ctrl.clock = lambda: next(times)  # a minute passes at each visit: the analysis falls due
        steps = [{"setWeight": 20}, {"analysis": {"intervalSeconds": 5, "maxErrorRate": 5}}]
        doc = canary_body()
        doc["spec"]["strategy"]["steps"] = steps
        await ctrl.pipeline_changed(doc)
        return await visits(ctrl, kube)

    status = run(scenario())
    assert status["rollout"]["phase"] == "RolledBack"
    assert status["traffic"]["weights"] == "stable=100,canary=0"
    assert condition(status, "Stalled") == ("True", "RolloutAborted")
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert "error rate 20.0% > 5.0%" in stalled["message"]
    assert status["rollout"]["analysis"][-1]["verdict"] == "Failed"


@pytest.mark.parametrize(
    ("verdict", "cached"),
    [
        (None, True),
        ("router: route() raised ValueError: boom", True),
        ("FAIL translation: hangs at import: did not finish importing within 20s", False),
        ("FAIL router: hangs: route did not return within 5s", False),
        ("the program check did not finish within 60s", False),
    ],
)
def test_a_verdict_reached_by_a_time_limit_is_checked_again_next_time(verdict: str | None, cached: bool) -> None:
    """On a machine starved of CPU a sound program can time out: that verdict is not kept."""
    checker = ProgramChecker()

    async def fixed(sources: dict[str, str]) -> str | None:
        return verdict

    checker._run = fixed  # type: ignore[method-assign]
    assert run(checker.check({"router": "x"})) == verdict
    assert (sources_hash({"router": "x"}) in checker.results) is cached
