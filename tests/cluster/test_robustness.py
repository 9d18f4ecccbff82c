"""What users and clusters do to pipelines and their children behind the operator's back."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from e2e import processes
from e2e.evp import apply, condition, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for

pytestmark = pytest.mark.cluster


def test_a_status_written_by_someone_else_is_overwritten_with_the_truth(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("st", namespace))
    generation = wait_ready(kubectl, "st", namespace)["metadata"]["generation"]

    def forge(observed_generation: int) -> None:
        ready = {"type": "Ready", "status": "False", "reason": "Forged", "message": "x"}
        status = {
            "observedGeneration": observed_generation,
            "conditions": [{**ready, "lastTransitionTime": "2020-01-01T00:00:00Z"}],
        }
        patch = json.dumps({"status": status})
        kubectl.run("patch", "evp", "st", "-n", namespace, "--subresource=status", "--type=merge", "-p", patch)

    def truthful() -> dict[str, Any] | None:
        obj = kubectl.get("evp", "st", "-n", namespace)
        current = obj["status"].get("observedGeneration") == generation
        return obj if current and condition(obj, "Ready").get("reason") == "AllVariantsAvailable" else None

    forge(generation + 98)
    obj = wait_for("the operator to overwrite the forged status", truthful, timeout=60)
    assert {c["type"] for c in obj["status"]["conditions"]} == {"Ready", "Reconciling", "Stalled"}
    forge(generation)  # conditions alone, with the right observedGeneration
    wait_for("the operator to overwrite the forged conditions", truthful, timeout=60)


def _single(name: str, namespace: str, variant: str) -> dict[str, Any]:
    return {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"variants": [{"name": variant, "role": "stable", "replicas": 1}]},
    }


def test_two_pipelines_deriving_the_same_child_names_the_older_keeps_them_the_other_stalls_until_it_is_gone(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    both = [_single("a", namespace, "b-c"), _single("a-b", namespace, "c")]  # both want a-b-c
    kubectl.run("apply", "--server-side", "--field-manager", "gitops", "-f", "-", stdin=yaml.safe_dump_all(both))
    # Created in the same second, or "a" first: "a" is the older (the name breaks a tie).
    wait_ready(kubectl, "a", namespace)

    def stalled() -> dict[str, Any] | None:
        found = condition(kubectl.get("evp", "a-b", "-n", namespace), "Stalled")
        taken = "pipeline a, " in found.get("message", "") and "Deployment/a-b-c" in found["message"]
        return found if found.get("reason") == "ChildNameConflict" and taken else None

    wait_for("a-b to stall on the name conflict", stalled, timeout=60)
    for kind in ("deployment", "service", "configmap"):
        labels = kubectl.get(kind, "a-b-c", "-n", namespace)["metadata"]["labels"]
        assert labels["pipelines.evolved.io/pipeline"] == "a", kind
    assert kubectl.get("service", "a-b-c", "-n", namespace)["spec"]["selector"]["pipelines.evolved.io/pipeline"] == "a"

    kubectl.run("delete", "evp", "a", "-n", namespace)  # its children go with it: a-b takes the names
    wait_ready(kubectl, "a-b", namespace, timeout=120)
    labels = kubectl.get("deployment", "a-b-c", "-n", namespace)["metadata"]["labels"]
    assert labels["pipelines.evolved.io/pipeline"] == "a-b"


def test_fields_someone_else_changes_in_a_child_are_put_back_and_nothing_else_is_fought(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("dr", namespace))
    wait_ready(kubectl, "dr", namespace)
    deployment = "dr-stable"

    def image() -> str:
        obj = kubectl.get("deployment", deployment, "-n", namespace) or {}
        return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])

    def reverted() -> list[str]:
        items = kubectl.items("events", "-n", namespace, "--field-selector", "involvedObject.name=dr")
        return [
            e.get("message", "") for e in items if e["reason"] == "DriftReverted" for _ in range(e.get("count") or 1)
        ]

    original = image()
    kubectl.run("set", "image", f"deployment/{deployment}", "*=evil:latest", "-n", namespace)
    wait_for("the image to be put back", lambda: image() == original, timeout=60)
    messages = wait_for("a DriftReverted event", reverted, timeout=30)
    assert f"Deployment/{deployment}" in messages[0]
    assert "kubectl-set" in messages[0]

    (configmap,) = [
        c["metadata"]["name"]
        for c in kubectl.items("configmaps", "-n", namespace, "-l", "pipelines.evolved.io/pipeline=dr")
        if c["metadata"]["name"].startswith("dr-stable")
    ]
    before = kubectl.get("configmap", configmap, "-n", namespace)["data"]
    key = sorted(before)[0]
    kubectl.run(
        "patch", "configmap", configmap, "-n", namespace, "--type=merge", "-p", json.dumps({"data": {key: "x"}})
    )
    wait_for("the ConfigMap to be put back",
             lambda: kubectl.get("configmap", configmap, "-n", namespace)["data"] == before, timeout=60)  # fmt: skip

    # What the operator does not set is not drift: a restart annotation and a label of someone else's
    # stay, and the operator posts no DriftReverted for them.
    count = len(wait_for("the second DriftReverted event", lambda: (r := reverted()) and len(r) >= 2 and r, 30))
    kubectl.run("rollout", "restart", f"deployment/{deployment}", "-n", namespace)
    kubectl.run("label", "deployment", deployment, "-n", namespace, "team=blue")

    def restarted() -> dict[str, Any] | None:
        obj = kubectl.get("deployment", deployment, "-n", namespace) or {}
        annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
        kept = "kubectl.kubernetes.io/restartedAt" in annotations and obj["metadata"]["labels"].get("team") == "blue"
        return obj if kept and obj.get("status", {}).get("updatedReplicas") == obj["spec"]["replicas"] else None

    wait_for("the restarted rollout, label kept", restarted, timeout=60)
    # A spec change after them: once the operator applied it, it has seen the events before it.
    scaled = pipeline("dr", namespace)
    scaled["spec"]["variants"][0]["replicas"] = 3
    apply(kubectl, scaled)
    wait_for("the new replica count", lambda: (restarted() or {}).get("spec", {}).get("replicas") == 3, timeout=60)
    assert len(reverted()) == count
    assert len([m for m in reverted() if f"Deployment/{deployment}" in m]) == 1  # one drift, one re-apply
    assert condition(wait_ready(kubectl, "dr", namespace), "Ready")["status"] == "True"
