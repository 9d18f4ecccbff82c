"""``make dev`` (e2e/dev.py) runs the operator as a local process, outside the cluster's pod network.

KWOK's pod IPs (10.0.x.x) have no network behind them here: from this machine they are routed to
the default gateway, off the machine. An operator that scraped a canary's router pods at those
addresses would send its analysis traffic out of the machine, so the dev operator's router source
is pinned to a loopback URL (a user's own ``EVOLVED_ROUTER_METRICS_URL`` wins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from e2e import dev


class _Process:
    pid = 4242


class _Proc:  # stands in for processes.Background
    process = _Process()


def _started_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    seen: dict[str, Any] = {}

    def start_operator(kubeconfig: str, log_path: Path, *extra: str, env: dict[str, str] | None = None) -> _Proc:
        seen["env"] = env or {}
        return _Proc()

    monkeypatch.setattr(dev.operator_proc, "start_operator", start_operator)
    monkeypatch.setattr(dev, "cache_dir", lambda: tmp_path)
    dev.ensure_operator("/tmp/kubeconfig")
    env: dict[str, str] = seen["env"]
    return env


def test_the_dev_operator_scrapes_routers_on_loopback_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EVOLVED_ROUTER_METRICS_URL", raising=False)
    env = _started_env(monkeypatch, tmp_path)
    url = env.get("EVOLVED_ROUTER_METRICS_URL", "")
    assert urlsplit(url).hostname == "127.0.0.1", env


def test_a_users_router_metrics_url_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVOLVED_ROUTER_METRICS_URL", "http://127.0.0.1:18080/metrics")
    env = _started_env(monkeypatch, tmp_path)
    assert env["EVOLVED_ROUTER_METRICS_URL"] == "http://127.0.0.1:18080/metrics"
