"""Autoscaling per variant on the real control plane: metrics-server (built from its Go module)
serves KWOK's simulated CPU usage, the HPA controller scales a variant's Deployment out when its
pods are busy and back in when they are idle, and a canary raises its autoscaled candidate's HPA
minimum with the weight, so the candidate has the pods before the traffic (issue 21, point 5).

A pod's simulated CPU usage is its ``kwok.x-k8s.io/usage-cpu`` annotation (KWOK's default
ClusterResourceUsage; 1m without it). "Busy" annotates every pod of the variant, including the
ones a scale-out adds (each probe annotates the pods that lack the value), as a load spread over
all pods would make them."""

from __future__ import annotations

import math
import os
from typing import Any

import pytest

from e2e import processes
from e2e.evp import ROUTER_V2, apply, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for
from evolved_operator.constants import LABEL_PIPELINE, LABEL_VARIANT

pytestmark = pytest.mark.cluster

USAGE_CPU = "kwok.x-k8s.io/usage-cpu"
REQUEST_CPU = "100m"
TARGET_PERCENT = 50
# metrics-server needs two scrapes 10 s apart for a rate; the HPA controller syncs every 15 s and
# (on the local cluster) scales in after 10 s. Generous bounds: a loaded 2-core machine.
SCALE_TIMEOUT = 150.0


@pytest.fixture(autouse=True, scope="module")  # before the module's operator starts
def _simulated_usage_served(kubectl: Kubectl) -> None:
    """The HPA needs the resource metrics API, and the usage these tests set needs KWOK's nodes (on
    kind the pods' real usage counts); a cluster without either cannot run these tests."""
    if not any(n["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for n in kubectl.items("nodes")):
        pytest.skip("no KWOK nodes: the tests set the pods' CPU usage through KWOK")
    api = kubectl.get("apiservice", "v1beta1.metrics.k8s.io") or {}
    available = any(
        c.get("type") == "Available" and c.get("status") == "True" for c in api.get("status", {}).get("conditions", [])
    )
    if not available:
        message = (
            "the cluster serves no resource metrics API (metrics-server): a local one started before "
            "metrics-server was added needs `make cluster-down cluster-up`"
        )
        if os.environ.get("EVOLVED_REQUIRE_CLUSTER", "") not in ("", "0", "false"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def autoscaled(name: str, namespace: str, low: int, high: int) -> dict[str, Any]:
    obj = pipeline(name, namespace)
    stable = obj["spec"]["variants"][0]
    stable.pop("replicas")
    stable["autoscaling"] = {
        "minReplicas": low,
        "maxReplicas": high,
        "targetCPUUtilizationPercentage": TARGET_PERCENT,
    }
    stable["resources"] = {"requests": {"cpu": REQUEST_CPU}}
    obj["spec"]["variants"][1]["replicas"] = 0
    return obj


def pods(kubectl: Kubectl, name: str, variant: str, namespace: str) -> list[dict[str, Any]]:
    selector = f"{LABEL_PIPELINE}={name},{LABEL_VARIANT}={variant}"
    return [
        p for p in kubectl.items("pods", "-n", namespace, "-l", selector) if not p["metadata"].get("deletionTimestamp")
    ]


def load(kubectl: Kubectl, name: str, variant: str, namespace: str, cpu: str) -> int:
    """Every pod of the variant uses ``cpu`` (KWOK's simulated usage); returns how many pods there are."""
    found = pods(kubectl, name, variant, namespace)
    stale = [p["metadata"]["name"] for p in found if p["metadata"].get("annotations", {}).get(USAGE_CPU) != cpu]
    if stale:
        kubectl.run("annotate", "pods", "-n", namespace, "--overwrite", *stale, f"{USAGE_CPU}={cpu}", check=False)
    return len(found)


def hpa(kubectl: Kubectl, name: str, namespace: str) -> dict[str, Any]:
    return dict(kubectl.get("hpa", name, "-n", namespace) or {})


def cpu_utilization(scaler: dict[str, Any]) -> int | None:
    """The average CPU utilization (percent of the request) the HPA last measured."""
    for metric in (scaler.get("status") or {}).get("currentMetrics") or []:
        if metric.get("type") == "Resource":
            return int(metric["resource"]["current"]["averageUtilization"])
    return None


def replica_writers(kubectl: Kubectl, name: str, namespace: str) -> set[str]:
    """Field managers that own the Deployment's ``spec.replicas``."""
    deployment = kubectl.get("deployment", name, "-n", namespace, "--show-managed-fields")
    return {
        str(f["manager"])
        for f in deployment["metadata"]["managedFields"]
        if "f:replicas" in (f.get("fieldsV1", {}).get("f:spec") or {})
    }


def ready_replicas(kubectl: Kubectl, name: str, namespace: str) -> int:
    return int(((kubectl.get("deployment", name, "-n", namespace) or {}).get("status") or {}).get("readyReplicas") or 0)


def test_a_variant_scales_out_when_its_pods_are_busy_and_back_in_when_they_are_idle(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, autoscaled("busy", namespace, low=1, high=3))
    wait_ready(kubectl, "busy", namespace)
    scaler = hpa(kubectl, "busy-stable", namespace)
    assert (scaler["spec"]["minReplicas"], scaler["spec"]["maxReplicas"]) == (1, 3)
    deployment = kubectl.get("deployment", "busy-stable", "-n", namespace)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == REQUEST_CPU

    # Busy: 400m of a 100m request is 400%, eight times the 50% target: the HPA goes to its maximum.
    def scaled_out() -> dict[str, Any] | None:
        load(kubectl, "busy", "stable", namespace, "400m")
        seen = hpa(kubectl, "busy-stable", namespace)
        status = seen.get("status") or {}
        done = status.get("desiredReplicas") == 3 and ready_replicas(kubectl, "busy-stable", namespace) == 3
        return seen if done else None

    out = wait_for("the busy variant scaled out to its maximum of 3", scaled_out, timeout=SCALE_TIMEOUT, interval=1)
    assert (cpu_utilization(out) or 0) > TARGET_PERCENT, out["status"]

    # Idle: 5m of 100m is 5%: back to the minimum once the downscale stabilization window passes.
    def scaled_in() -> dict[str, Any] | None:
        load(kubectl, "busy", "stable", namespace, "5m")
        seen = hpa(kubectl, "busy-stable", namespace)
        status = seen.get("status") or {}
        done = status.get("desiredReplicas") == 1 and len(pods(kubectl, "busy", "stable", namespace)) == 1
        return seen if done else None

    back = wait_for("the idle variant scaled back in to 1", scaled_in, timeout=SCALE_TIMEOUT, interval=1)
    assert cpu_utilization(back) is not None, back["status"]
    assert (cpu_utilization(back) or 0) < TARGET_PERCENT, back["status"]
    # The operator never wrote the HPA-managed Deployment's replica count: only the HPA did.
    assert "evolved-operator" not in replica_writers(kubectl, "busy-stable", namespace)


def test_a_canary_raises_its_autoscaled_candidates_minimum_with_its_weight(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    obj = pipeline("cas", namespace)
    stable, candidate = obj["spec"]["variants"]
    stable["replicas"] = 4
    candidate.pop("replicas")
    candidate["programs"] = {"router": {"inline": ROUTER_V2}}
    candidate["autoscaling"] = {"minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": TARGET_PERCENT}
    candidate["resources"] = {"requests": {"cpu": REQUEST_CPU}}
    obj["spec"]["strategy"] = {"type": "Canary", "steps": [{"setWeight": 50}, {"pause": {}}]}
    apply(kubectl, obj)

    def paused() -> dict[str, Any] | None:
        seen = kubectl.get("evp", "cas", "-n", namespace) or {}
        return seen if (seen.get("status") or {}).get("rollout", {}).get("phase") == "Paused" else None

    at_weight = wait_for("the canary paused at weight 50", paused, timeout=SCALE_TIMEOUT)
    assert at_weight["status"]["traffic"]["weights"] == "stable=50,candidate=50"
    stable_ready = ready_replicas(kubectl, "cas-stable", namespace)
    assert stable_ready == 4
    needed = math.ceil(stable_ready * 50 / 100)
    scaler = hpa(kubectl, "cas-candidate", namespace)
    assert scaler["spec"]["minReplicas"] >= needed, scaler["spec"]
    assert scaler["spec"]["maxReplicas"] == 4
    # The HPA controller, not the operator, gave the candidate those pods (the weight waited for them).
    assert ready_replicas(kubectl, "cas-candidate", namespace) >= needed
    assert (scaler.get("status") or {}).get("desiredReplicas", 0) >= needed, scaler.get("status")
    assert "evolved-operator" not in replica_writers(kubectl, "cas-candidate", namespace)
