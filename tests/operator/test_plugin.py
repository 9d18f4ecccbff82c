"""`kubectl evolved` (operator/plugin.py) with a stand-in for kubectl: what it patches, and that it
refuses to act on a pipeline that has no rollout."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from evolved_operator import plugin


def pipeline(strategy: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"variants": [{"name": "stable", "role": "stable"}]}
    if strategy is not None:
        spec["strategy"] = strategy
    return {"metadata": {"name": "p", "generation": 1}, "spec": spec, "status": {"observedGeneration": 1}}


def fake_kubectl(monkeypatch: pytest.MonkeyPatch, obj: dict[str, Any]) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(args: list[str], namespace: str | None) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        out = json.dumps(obj) if args[0] == "get" else ""
        return subprocess.CompletedProcess(["kubectl", *args], 0, out, "")

    monkeypatch.setattr(plugin, "_kubectl", run)
    return calls


@pytest.mark.parametrize("strategy", [None, {"type": "RollingUpdate"}], ids=["no strategy", "RollingUpdate"])
@pytest.mark.parametrize("verb", ["promote", "abort", "pause", "resume"])
def test_no_rollout_no_patch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], verb: str, strategy: dict[str, Any] | None
) -> None:
    """Found following docs/rollouts.md: `kubectl evolved promote ab-experiment` (a RollingUpdate
    pipeline) patched spec.strategy.promote, printed it and changed nothing."""
    calls = fake_kubectl(monkeypatch, pipeline(strategy))
    assert plugin.main([verb, "p"]) == 1
    assert not [c for c in calls if c[0] == "patch"]
    assert f"p: no rollout to {verb}: spec.strategy.type is RollingUpdate" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["Canary", "ABTest"])
def test_a_rollout_is_patched(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    calls = fake_kubectl(monkeypatch, pipeline({"type": kind}))
    assert plugin.main(["promote", "p"]) == 0
    (patch,) = [c for c in calls if c[0] == "patch"]
    assert json.loads(patch[-1]) == {"spec": {"strategy": {"promote": True, "abort": False}}}
    assert patch[patch.index("--field-manager") + 1] == "kubectl-evolved"
