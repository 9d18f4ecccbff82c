"""Traffic on the real control plane: the router's objects and access, status.traffic, weights that
follow the CR, the spanning Service, a paused mirror, a provider switch, the HTTPRoute as stored."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from lightkube import AsyncClient, KubeConfig

from e2e import processes
from e2e.evp import apply, condition, owned, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for
from evolved_operator.kube import LightKube

pytestmark = pytest.mark.cluster


def weighted(name: str, namespace: str, stable: int, candidate: int, **traffic: Any) -> dict[str, Any]:
    obj = pipeline(name, namespace)
    obj["spec"]["variants"][0]["weight"] = stable
    obj["spec"]["variants"][1]["weight"] = candidate
    if traffic:
        obj["spec"]["traffic"] = traffic
    return obj


def traffic_of(kubectl: Kubectl, name: str, namespace: str) -> dict[str, Any]:
    return dict((kubectl.get("evp", name, "-n", namespace) or {}).get("status", {}).get("traffic") or {})


def events(kubectl: Kubectl, name: str, namespace: str) -> list[tuple[str, str]]:
    items = kubectl.items("events", "-n", namespace, "--field-selector", f"involvedObject.name={name}")
    return [(e["reason"], e.get("message", "")) for e in items]


def can(kubectl: Kubectl, namespace: str, *args: str) -> bool:
    who = f"system:serviceaccount:{namespace}:qa-router"
    proc = kubectl.run("auth", "can-i", *args, "-n", namespace, "--as", who, check=False)
    return proc.stdout.strip() == "yes"


def test_the_router_provider_runs_a_router_with_least_access_and_reports_the_weights(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, weighted("qa", namespace, 90, 10))
    ready = wait_ready(kubectl, "qa", namespace)
    assert ready["status"]["traffic"]["weights"] == "stable=90,candidate=10"
    assert ready["status"]["traffic"]["variants"] == [
        {"name": "stable", "weight": 90},
        {"name": "candidate", "weight": 10},
    ]
    table = kubectl.run("get", "evp", "qa", "-n", namespace).stdout
    assert "WEIGHTS" in table
    assert "stable=90,candidate=10" in table

    (router,) = owned(kubectl, "deployments", "qa", namespace, component="router")
    assert router["spec"]["template"]["spec"]["serviceAccountName"] == "qa-router"
    entry = kubectl.get("service", "qa", "-n", namespace)
    assert entry["spec"]["selector"] == {
        "pipelines.evolved.io/pipeline": "qa",
        "app.kubernetes.io/component": "router",
    }
    assert kubectl.get("lease", "qa-router", "-n", namespace)
    # What the router may do, asked of the apiserver's authorizer as the router's identity.
    assert can(kubectl, namespace, "watch", "evolvedpipelines.pipelines.evolved.io/qa")
    assert can(kubectl, namespace, "list", "endpointslices.discovery.k8s.io")
    assert can(kubectl, namespace, "patch", "leases.coordination.k8s.io/qa-router")
    assert not can(kubectl, namespace, "get", "evolvedpipelines.pipelines.evolved.io/other")
    assert not can(kubectl, namespace, "patch", "leases.coordination.k8s.io/other")
    assert not can(kubectl, namespace, "get", "secrets")
    assert not can(kubectl, namespace, "patch", "deployments.apps")
    assert not can(kubectl, namespace, "patch", "evolvedpipelines.pipelines.evolved.io/qa")


def test_a_weight_changed_in_the_cr_reaches_status_with_an_event(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, weighted("shift", namespace, 90, 10))
    wait_ready(kubectl, "shift", namespace)
    apply(kubectl, weighted("shift", namespace, 80, 20))
    wait_for(
        "the new weights in status.traffic",
        lambda: traffic_of(kubectl, "shift", namespace).get("weights") == "stable=80,candidate=20",
        timeout=30,
    )
    wait_for(
        "a WeightsChanged event",
        lambda: (
            ("WeightsChanged", "traffic stable=90,candidate=10 -> stable=80,candidate=20")
            in events(kubectl, "shift", namespace)
        ),
        timeout=30,
    )


def test_provider_service_spans_every_worker_and_reports_the_shares_of_ready_replicas(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    obj = pipeline("spread", namespace)
    obj["spec"]["traffic"] = {"provider": "service"}
    apply(kubectl, obj)
    ready = wait_ready(kubectl, "spread", namespace)
    assert ready["status"]["traffic"]["weights"] == "stable=67,candidate=33"  # 2 and 1 ready pods
    entry = kubectl.get("service", "spread", "-n", namespace)
    assert entry["spec"]["selector"] == {
        "pipelines.evolved.io/pipeline": "spread",
        "app.kubernetes.io/component": "worker",
    }
    assert not owned(kubectl, "deployments", "spread", namespace, component="router")


def test_switching_provider_removes_the_routers_objects(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("switch", namespace))
    wait_ready(kubectl, "switch", namespace)
    assert owned(kubectl, "deployments", "switch", namespace, component="router")
    obj = pipeline("switch", namespace)
    obj["spec"]["traffic"] = {"provider": "service"}
    apply(kubectl, obj)
    wait_ready(kubectl, "switch", namespace)
    for kind in ("deployments", "serviceaccounts", "roles", "rolebindings", "leases", "horizontalpodautoscalers"):
        wait_for(f"the router's {kind} to go", lambda k=kind: not owned(kubectl, k, "switch", namespace, "router"))


def test_a_mirror_variant_without_ready_pods_pauses_mirroring_and_ready_holds(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    obj = pipeline("shadow", namespace)
    obj["spec"]["variants"][1]["replicas"] = 0
    obj["spec"]["traffic"] = {"mirror": {"variant": "candidate", "percent": 20}}
    apply(kubectl, obj)
    ready = wait_ready(kubectl, "shadow", namespace)
    assert ready["status"]["traffic"]["mirror"] == {
        "variant": "candidate",
        "percent": 20,
        "state": "Paused",
        "message": "variant candidate has no ready pod: mirroring paused until it has one",
    }
    wait_for("a MirrorPaused event", lambda: any(r == "MirrorPaused" for r, _ in events(kubectl, "shadow", namespace)))
    obj["spec"]["variants"][1]["replicas"] = 1
    apply(kubectl, obj)
    wait_for(
        "the mirror to be active again",
        lambda: traffic_of(kubectl, "shadow", namespace).get("mirror", {}).get("state") == "Active",
        timeout=60,
    )
    wait_for(
        "a MirrorResumed event", lambda: any(r == "MirrorResumed" for r, _ in events(kubectl, "shadow", namespace))
    )


def test_the_http_route_is_stored_exactly_as_rendered_and_waits_for_a_gateway(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    """No field of the route is defaulted by the apiserver (Argo CD and Flux would see drift)."""
    obj = weighted("routed", namespace, 70, 30, provider="gatewayAPI", gatewayAPI={"parentRefs": [{"name": "none"}]})
    apply(kubectl, obj)
    route = wait_for("the HTTPRoute", lambda: kubectl.get("httproute", "routed", "-n", namespace), timeout=30)
    stored = copy.deepcopy(route["spec"])
    assert stored == {
        "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "none"}],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [
                    {"group": "", "kind": "Service", "name": "routed-stable", "port": 80, "weight": 70},
                    {"group": "", "kind": "Service", "name": "routed-candidate", "port": 80, "weight": 30},
                ],
            }
        ],
    }
    waiting = wait_for(
        "Reconciling WaitingForGateway",
        lambda: (
            (o := kubectl.get("evp", "routed", "-n", namespace))
            and condition(o, "Reconciling").get("reason") == "WaitingForGateway"
            and o
        ),
        timeout=60,
    )
    assert condition(waiting, "Ready")["status"] == "False"
    assert "HTTPRoute/routed" in condition(waiting, "Ready")["message"]


def test_the_analysis_scrapes_every_router_pod_it_finds_behind_the_entry_service(
    operator: processes.Background, kubeconfig: str, kubectl: Kubectl, namespace: str
) -> None:
    """With several router pods a scrape through the Service would reach one at random: the
    operator lists the entry Service's ready endpoints and scrapes each (operator.kube)."""
    obj = pipeline("pods", namespace)
    obj["spec"]["traffic"] = {"router": {"replicas": 2}}
    apply(kubectl, obj)
    wait_ready(kubectl, "pods", namespace)

    async def endpoints() -> list[tuple[str, int]]:
        kube = LightKube(AsyncClient(config=KubeConfig.from_file(kubeconfig)))
        try:
            return await kube.service_endpoints(namespace, "pods", "http")
        finally:
            await kube.close()

    found = wait_for("two router endpoints", lambda: (e := asyncio.run(endpoints())) and len(e) == 2 and e, timeout=60)
    pods = kubectl.items("pods", "-n", namespace, "-l", "app.kubernetes.io/component=router")
    assert sorted(found) == sorted((p["status"]["podIP"], 8080) for p in pods)
