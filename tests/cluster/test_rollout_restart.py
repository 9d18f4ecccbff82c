"""An operator restarted mid-rollout resumes at the same step, repeating and skipping none (its own
module: no other operator may run on the cluster meanwhile)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from e2e import operator_proc
from e2e.dataplane import free_port
from e2e.evp import apply
from e2e.kube import Kubectl, wait_for
from tests.cluster.test_rollout import canary, reasons, rollout_of

pytestmark = pytest.mark.cluster


def test_the_operator_restarted_mid_rollout_resumes_at_the_same_step(
    kubeconfig: str, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    operator_proc.install_crd(kubectl)
    steps = [{"setWeight": 20}, {"pause": {"duration": "1h"}}, {"setWeight": 60}]
    first = operator_proc.start_operator(kubeconfig, tmp_path / "first.log")
    try:
        wait_for("the first operator to start", lambda: "primed the cache" in first.log_tail(200), timeout=60)
        apply(kubectl, canary("rst", namespace, steps=steps))
        wait_for("step 1 (the long pause)", lambda: rollout_of(kubectl, "rst", namespace).get("step") == 1, timeout=60)
        before = rollout_of(kubectl, "rst", namespace)
    finally:
        assert first.stop() == 0, first.log_tail()
    port = free_port()
    second = operator_proc.start_operator(kubeconfig, tmp_path / "second.log", "--metrics-port", str(port))
    try:
        wait_for("the second operator to start", lambda: "primed the cache" in second.log_tail(200), timeout=60)
        # A change that is not the candidate's programs: the second operator must handle a new
        # generation, and with it decide the rollout again from what status holds.
        changed = canary("rst", namespace, steps=steps)
        changed["spec"]["variants"][0]["replicas"] = 3
        apply(kubectl, changed)
        wait_for(
            "the second operator to handle generation 2",
            lambda: (kubectl.get("evp", "rst", "-n", namespace) or {}).get("status", {}).get("observedGeneration") == 2,
            timeout=60,
        )
        after = rollout_of(kubectl, "rst", namespace)
        assert (after["step"], after["stepStartedAt"], after["candidateWeight"]) == (
            before["step"],
            before["stepStartedAt"],
            20,
        )
        assert reasons(kubectl, "rst", namespace).count("RolloutStarted") == 1
        # The operator's own metrics say the same.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            exposed = reply.read().decode()
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposed)
            for sample in family.samples
            if sample.labels.get("pipeline") == "rst" and sample.labels.get("namespace") == namespace
        }
        where = (("namespace", namespace), ("pipeline", "rst"))
        assert samples[("evolved_operator_rollout_phase", tuple(sorted((*where, ("phase", "Progressing")))))] == 1
        assert samples[("evolved_operator_rollout_step", where)] == 1
        assert samples[("evolved_operator_traffic_weight", tuple(sorted((*where, ("variant", "candidate")))))] == 20
        assert "evolved_operator_reconcile_duration_seconds_count" in exposed
    finally:
        assert second.stop() == 0, second.log_tail()
