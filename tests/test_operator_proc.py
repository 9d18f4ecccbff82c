"""Operators the tests and ``make dev`` run as local processes, outside the cluster's pod network.

KWOK's pod IPs (10.0.x.x) have no network behind them here: from this machine they are routed to
the default gateway, off the machine. An operator that scraped a canary's router pods at those
addresses would send its analysis traffic out of the machine, so every local operator's router
source is pinned to a loopback URL unless the caller (a test running routers as local processes)
or the user's environment names one."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from e2e.operator_proc import LOOPBACK_ROUTER_METRICS_URL, ROUTER_METRICS_ENV, operator_env

MINE = "http://127.0.0.1:18080/metrics"
USERS = "http://127.0.0.1:28080/metrics"


@pytest.mark.parametrize(
    ("env", "environ", "url"),
    [
        (None, {}, LOOPBACK_ROUTER_METRICS_URL),
        ({"OTHER": "1"}, {}, LOOPBACK_ROUTER_METRICS_URL),
        ({ROUTER_METRICS_ENV: MINE}, {}, MINE),
        (None, {ROUTER_METRICS_ENV: USERS}, USERS),
        ({ROUTER_METRICS_ENV: MINE}, {ROUTER_METRICS_ENV: USERS}, MINE),
        ({ROUTER_METRICS_ENV: ""}, {}, LOOPBACK_ROUTER_METRICS_URL),
    ],
)
def test_the_router_metrics_url(env: dict[str, str] | None, environ: dict[str, str], url: str) -> None:
    got = operator_env("/kubeconfig", env, environ)
    assert got[ROUTER_METRICS_ENV] == url
    assert got["KUBECONFIG"] == "/kubeconfig"
    assert all(got[k] == v for k, v in (env or {}).items() if k != ROUTER_METRICS_ENV)


def test_the_default_is_loopback() -> None:
    assert urlsplit(LOOPBACK_ROUTER_METRICS_URL).hostname == "127.0.0.1"
