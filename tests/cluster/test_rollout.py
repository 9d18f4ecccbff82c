"""Rollouts on the real control plane, driven with `kubectl evolved`: a canary walks its steps,
pauses, is promoted (stable rolls to the candidate's programs, then traffic returns to it); an
abort rolls back and stalls (the restart mid-rollout: test_rollout_restart.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from e2e import processes
from e2e.evp import ROUTER_V2, apply, condition, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for

pytestmark = pytest.mark.cluster


def canary(name: str, namespace: str, **strategy: Any) -> dict[str, Any]:
    """Stable runs ROUTER_V1, the candidate ROUTER_V2: a rollout is due."""
    obj = pipeline(name, namespace)
    obj["spec"]["variants"][1]["programs"] = {"router": {"inline": ROUTER_V2}}
    obj["spec"]["strategy"] = {"type": "Canary", "steps": [{"setWeight": 50}, {"pause": {}}], **strategy}
    return obj


def plugin(kubeconfig: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evolved_operator.plugin", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUBECONFIG": kubeconfig},
        timeout=60,
    )


def rollout_of(kubectl: Kubectl, name: str, namespace: str) -> dict[str, Any]:
    return dict(((kubectl.get("evp", name, "-n", namespace) or {}).get("status") or {}).get("rollout") or {})


def wait_phase(kubectl: Kubectl, name: str, namespace: str, phase: str, timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        obj = kubectl.get("evp", name, "-n", namespace)
        return obj if ((obj or {}).get("status") or {}).get("rollout", {}).get("phase") == phase else None

    return wait_for(f"{name} rollout {phase}", reached, timeout=timeout)


def reasons(kubectl: Kubectl, name: str, namespace: str) -> list[str]:
    items = kubectl.items("events", "-n", namespace, "--field-selector", f"involvedObject.name={name}")
    return [str(e["reason"]) for e in items]


def test_a_canary_pauses_at_its_weight_and_is_promoted_with_kubectl_evolved(
    operator: processes.Background, kubeconfig: str, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, canary("cnr", namespace))
    paused = wait_phase(kubectl, "cnr", namespace, "Paused")
    assert paused["status"]["traffic"]["weights"] == "stable=50,candidate=50"
    assert paused["status"]["rollout"]["step"] == 1
    assert condition(paused, "Ready")["status"] == "True"
    shown = plugin(kubeconfig, "status", "cnr", "-n", namespace)
    assert "rollout Paused: step 1/2, candidate weight 50" in shown.stdout, shown.stdout + shown.stderr

    promoted = plugin(kubeconfig, "promote", "cnr", "-n", namespace)
    assert promoted.returncode == 0, promoted.stderr
    done = wait_phase(kubectl, "cnr", namespace, "Completed", timeout=90)
    variants = {v["name"]: v for v in done["status"]["variants"]}
    assert variants["stable"]["programHash"] == variants["candidate"]["programHash"], (
        "stable runs the promoted programs"
    )
    wait_for(
        "traffic back on stable and the candidate scaled down",
        lambda: (
            (o := kubectl.get("evp", "cnr", "-n", namespace))["status"]["traffic"]["weights"]
            == "stable=100,candidate=0"
            and kubectl.get("deployment", "cnr-candidate", "-n", namespace)["spec"]["replicas"] == 0
            and o
        ),
        timeout=60,
    )
    # Promoted and scaled down is the state the rollout declares: Ready, nothing in progress.
    settled = wait_ready(kubectl, "cnr", namespace)
    assert condition(settled, "Reconciling")["status"] == "False"
    happened = reasons(kubectl, "cnr", namespace)
    for reason in ("RolloutStarted", "StepAdvanced", "Paused", "Promoting", "Promoted"):
        assert reason in happened, happened
    assert happened.count("RolloutStarted") == 1
    source = kubectl.items("events", "-n", namespace, "--field-selector", "involvedObject.name=cnr")[0]
    assert source["source"]["component"] == "evolved-operator"
    # The user's spec is untouched: Git still declares the old programs for stable.
    spec = kubectl.get("evp", "cnr", "-n", namespace)["spec"]
    assert spec["variants"][0]["programs"]["router"]["inline"] != ROUTER_V2


def test_abort_rolls_back_at_once_and_stalls_until_the_spec_changes(
    operator: processes.Background, kubeconfig: str, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, canary("abt", namespace))
    wait_phase(kubectl, "abt", namespace, "Paused")
    assert plugin(kubeconfig, "abort", "abt", "-n", namespace).returncode == 0
    rolled = wait_phase(kubectl, "abt", namespace, "RolledBack")
    assert rolled["status"]["traffic"]["weights"] == "stable=100,candidate=0"
    stalled = wait_for(
        "Stalled RolloutAborted",
        lambda: (
            (o := kubectl.get("evp", "abt", "-n", namespace))
            and condition(o, "Stalled").get("reason") == "RolloutAborted"
            and o
        ),
    )
    assert condition(stalled, "Stalled")["status"] == "True"
    assert {"Aborted", "RolledBack"} <= set(reasons(kubectl, "abt", namespace))
