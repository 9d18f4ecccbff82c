"""Rollouts end to end: the control plane, the operator, stable and candidate runtime workers and the
router as local processes configured from what the operator wrote (``e2e.rollout_plane``), a real
Prometheus scraping the router, and a bounded load through the router.

(a) a good candidate is promoted through every step with no client error; (b) a candidate whose
program fails a fifth of its requests is rolled back by its second measurement, with the measured
error rate in status; (c) a candidate that answers wrongly without errors is caught by the
mirrored-agreement check; (e) Prometheus unreachable: every measurement is Inconclusive and the
rollout fails, never passes. (d), the operator restarted mid-rollout: test_rollout_restart.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e import processes
from e2e import prometheus as prom
from e2e.candidates import FAILING, GOOD, WRONG, analysis, candidate_pipeline, promoted_canary
from e2e.dataplane import free_port
from e2e.kube import Kubectl
from e2e.rollout_plane import run_rollout, start_operator

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def router_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def rollout_operator(
    kubeconfig: str, kubectl: Kubectl, router_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[processes.Background]:
    proc = start_operator(kubeconfig, kubectl, router_port, tmp_path_factory.mktemp("operator") / "operator.log")
    yield proc
    proc.stop()


def test_a_good_candidate_is_promoted_through_every_step_with_no_client_error(
    rollout_operator: processes.Background, kubectl: Kubectl, namespace: str, router_port: int, tmp_path: Path
) -> None:
    with prom.running([prom.Target(f"127.0.0.1:{router_port}", {"namespace": namespace, "pipeline": "good"})],
                      tmp_path / "prometheus") as prometheus:  # fmt: skip
        obj = promoted_canary("good", namespace, prometheus.url)
        final, load, restarts = run_rollout(kubectl, namespace, obj, tmp_path, router_port, {"Completed", "RolledBack"})
    rollout = final["status"]["rollout"]
    assert rollout["phase"] == "Completed", rollout
    assert [run["verdict"] for run in rollout["analysis"]][-2:] == ["Passed", "Passed"]
    outcomes = load.outcomes
    assert load.errors() == 0, outcomes
    served = {variant for (_, variant, _) in outcomes}
    assert {"stable", "candidate"} <= served
    assert {verdict for (_, _, verdict) in outcomes} == {"SAT"}
    assert restarts == 1
    variants = {v["name"]: v for v in final["status"]["variants"]}
    assert variants["stable"]["programHash"] == variants["candidate"]["programHash"]


def test_a_candidate_failing_a_fifth_of_its_requests_is_rolled_back_at_its_second_measurement(
    rollout_operator: processes.Background, kubectl: Kubectl, namespace: str, router_port: int, tmp_path: Path
) -> None:
    """The router source's first scrape only opens the window: the second measurement judges."""
    steps = [{"setWeight": 50}, analysis(maxErrorRate=5)]
    obj = candidate_pipeline("failing", namespace, {"router": FAILING}, steps)
    final, _, _ = run_rollout(kubectl, namespace, obj, tmp_path, router_port, {"RolledBack", "Completed"})
    rollout = final["status"]["rollout"]
    assert rollout["phase"] == "RolledBack"
    assert len(rollout["analysis"]) <= 2, rollout["analysis"]
    last = rollout["analysis"][-1]
    assert last["verdict"] == "Failed"
    (error_rate,) = [c for c in last["checks"] if c["name"] == "maxErrorRate"]
    assert 10 <= error_rate["value"] <= 30, error_rate  # about a fifth of the candidate's requests
    assert final["status"]["traffic"]["weights"] == "stable=100,candidate=0"
    stalled = next(c for c in final["status"]["conditions"] if c["type"] == "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "RolloutAborted")
    assert "error rate" in stalled["message"]


def test_a_candidate_answering_wrongly_without_errors_is_caught_by_mirrored_agreement(
    rollout_operator: processes.Background, kubectl: Kubectl, namespace: str, router_port: int, tmp_path: Path
) -> None:
    steps = [{"setWeight": 10}, analysis(minAgreement=95, maxErrorRate=5)]
    mirror = {"mirror": {"variant": "candidate", "percent": 100}}
    obj = candidate_pipeline("wrong", namespace, {"translation": WRONG}, steps, **mirror)
    final, load, _ = run_rollout(kubectl, namespace, obj, tmp_path, router_port, {"RolledBack", "Completed"})
    rollout = final["status"]["rollout"]
    assert rollout["phase"] == "RolledBack", rollout
    last = rollout["analysis"][-1]
    agreement = next(c for c in last["checks"] if c["name"] == "minAgreement")
    assert agreement["verdict"] == "Failed"
    assert agreement["value"] < 50, agreement
    errors = next(c for c in last["checks"] if c["name"] == "maxErrorRate")
    assert errors["verdict"] == "Passed", "the candidate answered without errors: only agreement caught it"
    assert load.errors() == 0


def test_an_unreachable_prometheus_is_inconclusive_and_fails_the_rollout_never_passes_it(
    rollout_operator: processes.Background, kubectl: Kubectl, namespace: str, router_port: int, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    steps = [
        {"setWeight": 20},
        analysis(provider="prometheus", prometheusURL=nowhere, inconclusiveLimit=2, maxErrorRate=5),
    ]
    obj = candidate_pipeline("blind", namespace, {"router": GOOD}, steps)
    final, _, _ = run_rollout(kubectl, namespace, obj, tmp_path, router_port, {"RolledBack", "Completed"})
    rollout = final["status"]["rollout"]
    assert rollout["phase"] == "RolledBack"
    assert [run["verdict"] for run in rollout["analysis"]] == ["Inconclusive", "Inconclusive"]
    assert "Prometheus" in rollout["analysis"][-1]["message"]
    assert "inconclusive 2 times" in rollout["message"]
