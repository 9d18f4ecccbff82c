"""What users and clusters do to pipelines and their children behind the operator's back."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
