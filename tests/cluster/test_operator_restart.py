"""The operator stopped half-way through its work and started again converges without duplicate work."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e import operator_proc
from e2e.evp import apply, owned, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for

pytestmark = pytest.mark.cluster


def test_the_operator_restarted_half_way_converges_without_duplicate_work(
    kubeconfig: str, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    operator_proc.install_crd(kubectl)
    first = operator_proc.start_operator(kubeconfig, tmp_path / "first.log")
    try:
        apply(kubectl, pipeline("restart", namespace))
        wait_for("the first Deployment", lambda: owned(kubectl, "deployments", "restart", namespace))
    finally:
        assert first.stop() == 0, first.log_tail()
    second = operator_proc.start_operator(kubeconfig, tmp_path / "second.log")
    try:
        wait_for("the second operator to start", lambda: "primed the cache" in second.log_tail(200), timeout=60)
        wait_ready(kubectl, "restart", namespace)
        deployments = owned(kubectl, "deployments", "restart", namespace)
        assert len(deployments) == 3  # two variants and the router
        assert all(d["metadata"]["generation"] == 1 for d in deployments), "a Deployment was written twice"
    finally:
        assert second.stop() == 0, second.log_tail()
