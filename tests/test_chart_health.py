"""The Argo CD health check and kstatus on statuses no cluster test can hold still (a generation not
handled yet, no status at all), run by the same tools as the cluster tests (tools/gitops-health:
gopher-lua as Argo CD opens it, and cli-utils' kstatus). The states the real operator produces are
in tests/cluster/test_gitops.py."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from e2e import gitops

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="go is needed to build tools/gitops-health")


def evp(generation: int, status: dict[str, Any] | None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": "qa", "namespace": "prod", "generation": generation},
    }
    if status is not None:
        obj["status"] = status
    return obj


def cond(kind: str, status: str, reason: str, message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


STALLED = cond("Stalled", "True", "SecretNotFound", "spec.llm.apiKeySecretRef: Secret 'llm' not found")
READY = [cond("Ready", "True", "Ready", "1 variant(s)"), cond("Reconciling", "False", "Ready")]

CASES = {
    # kstatus calls an object without status current: Flux cannot tell that the operator has not
    # seen it yet (the operator writes conditions on its first visit); Argo CD waits.
    "no status yet: Progressing for Argo CD, Current for kstatus": (
        evp(1, None),
        ("Progressing", "waiting for the operator"),
        "Current",
    ),
    "a generation the operator has not handled: Progressing, even when Ready": (
        evp(3, {"observedGeneration": 2, "conditions": READY}),
        ("Progressing", "waiting for the operator to handle generation 3"),
        "InProgress",
    ),
    "Ready and current: Healthy and Current": (
        evp(2, {"observedGeneration": 2, "conditions": READY}),
        ("Healthy", "Ready: 1 variant(s)"),
        "Current",
    ),
    "Stalled wins over Reconciling: Degraded and Failed": (
        evp(2, {"observedGeneration": 2, "conditions": [STALLED, cond("Reconciling", "True", "RollingOut")]}),
        ("Degraded", "SecretNotFound: spec.llm.apiKeySecretRef: Secret 'llm' not found"),
        "Failed",
    ),
    "not Ready with no work under way and no stall: Progressing with Ready's reason, InProgress": (
        evp(2, {"observedGeneration": 2, "conditions": [cond("Ready", "False", "NotReady", "0/2 ready")]}),
        ("Progressing", "NotReady: 0/2 ready"),
        "InProgress",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_health(case: str) -> None:
    obj, argo, flux = CASES[case]
    (argo_said,) = gitops.argocd([obj])
    (flux_said,) = gitops.kstatus([obj])
    assert (argo_said["status"], argo_said["message"]) == argo
    assert flux_said["status"] == flux
