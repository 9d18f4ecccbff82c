"""The Grafana dashboard and the alert rules on real data: the promotion scenario of
test_rollout_e2e.py (a good candidate promoted in two steps, judged by a real Prometheus), with a
Prometheus that scrapes everything the dashboard reads, as a cluster's would: the router and both
variants' workers with the ``namespace`` and ``pipeline`` labels of the scrape config in
docs/rollouts.md, and the operator's metrics port as the chart's ServiceMonitor has it scraped.

The pipeline uses the LLM path too, so that its panels have something to show: a priced provider
(a fake upstream on 127.0.0.1), the answer cache and a budget, and the load mixes Tier 0 questions
in with the equations. After the promotion, every panel's queries must return data (a panel that
cannot have any in this scenario is listed in ``EXPECTED_EMPTY`` with its reason), and every alert
expression must evaluate (empty is fine: nothing should fire).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e import monitoring, processes
from e2e import prometheus as prom
from e2e.candidates import promoted_canary
from e2e.dataplane import DataPlane, free_port
from e2e.fake_upstream import FakeUpstream
from e2e.kube import Kubectl, WaitTimeout, wait_for
from e2e.rollout_plane import prompts, run_rollout, start_operator

pytestmark = pytest.mark.cluster

NAME = "dash"
# Panel title -> why its queries cannot return data in this scenario (none today: every panel has data).
EXPECTED_EMPTY: dict[str, str] = {}
TIER0 = [f"Write a short poem about the {thing}." for thing in ("sea", "moon", "forest", "city", "wind", "rain")]
PRICES = {"inputUSDPerMillionTokens": 1000, "outputUSDPerMillionTokens": 2000}
# Panels that must show some spend above 0 (the Tier 0 questions keep calling the priced LLM): a
# zero there would mean the panel reads a counter nothing adds to.
SPENDING = {"LLM cost by variant (USD per hour)", "Cost per request by variant (USD)", "Budget spent"}
DATA_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def router_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def operator_metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def metrics_operator(
    kubeconfig: str,
    kubectl: Kubectl,
    router_port: int,
    operator_metrics_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[processes.Background]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    proc = start_operator(kubeconfig, kubectl, router_port, log, "--metrics-port", str(operator_metrics_port))
    yield proc
    proc.stop()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


def with_llm_path(obj: dict[str, Any], upstream: FakeUpstream) -> dict[str, Any]:
    """The pipeline with a priced LLM provider (the fake upstream), a budget and the answer cache, its
    entries kept 1 s: the load's questions, which come round again faster, hit it, and the Tier 0
    ones still call the LLM every second."""
    spec = obj["spec"]
    provider = {"name": "fake", "baseURL": upstream.base_url, "model": "fake-model", **PRICES}
    spec["llm"] = {"providers": [provider]}
    spec["cache"] = {"ttlSeconds": 1}
    spec["budgets"] = {"pipeline": {"hourUSD": 1000, "dayUSD": 10000}}
    return obj


def missing(server: prom.Prometheus, panels: list[tuple[str, str]]) -> list[str]:
    """What the dashboard lacks: every query of ``panels`` with no data (but the expected ones), and
    every query of a ``SPENDING`` panel with no value above 0."""
    out = []
    for title, expr in panels:
        if title in EXPECTED_EMPTY:
            continue
        rows = server.query(expr)
        if not rows:
            out.append(f"no data: {title}: {expr}")
        elif title in SPENDING and not any(float(row["value"][1]) > 0 for row in rows):
            out.append(f"no spend: {title}: {expr} = {rows}")
    return out


def check_the_dashboard_and_the_alerts(server: prom.Prometheus, targets: int, namespace: str) -> None:
    """Every scrape target up, then data in every panel for pipeline ``namespace/NAME`` and every
    alert expression evaluated."""
    panels = monitoring.queries(monitoring.dashboard(), namespace, NAME)
    wait_for(f"all {targets} scrape targets up", lambda: len(server.query("up == 1")) == targets, DATA_TIMEOUT_S)
    lacking: list[str] = []

    def every_panel_has_data() -> bool:
        lacking[:] = missing(server, panels)
        return not lacking

    with contextlib.suppress(WaitTimeout):  # the assertion below names what is still lacking
        wait_for("data in every dashboard panel", every_panel_has_data, timeout=DATA_TIMEOUT_S)
    assert not lacking, "dashboard panels without data:\n" + "\n".join(lacking)
    for title, reason in EXPECTED_EMPTY.items():
        exprs = [expr for t, expr in panels if t == title]
        assert exprs, f"EXPECTED_EMPTY names no panel of the dashboard: {title}"
        assert not any(server.query(expr) for expr in exprs), f"{title} has data now ({reason}): remove it"
    for rule in monitoring.alert_rules():
        try:
            server.query(rule["expr"])
        except Exception as exc:  # the HTTP 400 of an expression Prometheus cannot parse or evaluate
            raise AssertionError(f"alert {rule['alert']}: {rule['expr']}: {exc}") from exc


def test_every_dashboard_panel_has_data_and_every_alert_evaluates_after_a_promotion(
    metrics_operator: processes.Background,
    kubectl: Kubectl,
    namespace: str,
    router_port: int,
    operator_metrics_port: int,
    upstream: FakeUpstream,
    tmp_path: Path,
) -> None:
    labels = {"namespace": namespace, "pipeline": NAME}
    worker_ports = {"stable": free_port(), "candidate": free_port()}
    targets = [
        prom.Target(f"127.0.0.1:{router_port}", labels),
        *(prom.Target(f"127.0.0.1:{port}", labels, job="evolved-worker") for port in worker_ports.values()),
        monitoring.operator_target(f"127.0.0.1:{operator_metrics_port}"),
    ]
    with prom.running(targets, tmp_path / "prometheus") as server:

        def observe(plane: DataPlane) -> None:
            check_the_dashboard_and_the_alerts(server, len(targets), namespace)

        obj = with_llm_path(promoted_canary(NAME, namespace, server.url), upstream)
        load_prompts = prompts() + TIER0
        final, load, _ = run_rollout(kubectl, namespace, obj, tmp_path, router_port, {"Completed", "RolledBack"},
                                     load_prompts=load_prompts, worker_ports=worker_ports, observe=observe)  # fmt: skip
    assert final["status"]["rollout"]["phase"] == "Completed", final["status"]["rollout"]
    assert load.errors() == 0, load.outcomes
    assert upstream.requests > 0
