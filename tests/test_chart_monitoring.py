"""The chart's alerts and dashboard: rules checked and unit-tested by promtool, the dashboard's JSON
well formed, every series it and the alerts read exported by the code, every query run by a real
Prometheus (with no targets here; tests/cluster/test_dashboard_e2e.py runs them on real data)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from e2e import chart, monitoring, prometheus, toolchain


def _required() -> bool:
    return os.environ.get("EVOLVED_REQUIRE_CLUSTER", "") not in ("", "0", "false")


@pytest.fixture(scope="module")
def promtool() -> Path:
    if shutil.which("go") is None:
        if _required():
            pytest.fail("go is needed to build promtool")
        pytest.skip("go is needed to build promtool")
    return monitoring.promtool()


def exported_names() -> str:
    """The text of every module that defines metrics (runtime, router, operator)."""
    sources = [*(chart.ROOT / "runtime").rglob("*.py"), *(chart.ROOT / "operator").rglob("*.py")]
    return "\n".join(p.read_text() for p in sources)


def test_the_alert_rules_are_valid(promtool: Path) -> None:
    proc = monitoring.run_promtool("check", "rules", str(monitoring.ALERTS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 8 rules found" in proc.stdout


def test_the_alert_rules_fire_as_their_unit_tests_say(promtool: Path) -> None:
    proc = monitoring.run_promtool("test", "rules", monitoring.ALERT_TESTS.name, cwd=monitoring.ALERT_TESTS.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_alert_asked_for_is_there() -> None:
    rules = monitoring.alert_rules()
    assert {r["alert"] for r in rules} == {
        "EvolvedPipelineHighLatency",
        "EvolvedPipelineErrorRate",
        "EvolvedLLMProviderErrorRate",
        "EvolvedLLMCircuitOpen",
        "EvolvedBudgetAt80Percent",
        "EvolvedRolloutAborted",
        "EvolvedRolloutStalled",
        "EvolvedPipelineNotReady",
    }
    assert all(r["labels"]["severity"] in ("warning", "critical") and r["annotations"]["summary"] for r in rules)


def test_the_dashboard_is_well_formed() -> None:
    board = monitoring.dashboard()
    assert board["uid"] == "evolved-pipelines"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in board["templating"]["list"]}
    assert variables == {"datasource", "namespace", "pipeline"}
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        here = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])}
        assert not cells & here, f"{panel['title']} overlaps another panel"
        cells |= here
    titles = " ".join(p["title"] for p in board["panels"]).lower()
    for wanted in ("request rate", "latency", "tier mix", "solver success", "cache hit", "circuit", "cost", "variant"):
        assert wanted in titles, wanted


def test_every_series_the_dashboard_and_the_alerts_read_is_exported_by_the_code() -> None:
    code = exported_names()
    exprs = [e for _, e in monitoring.queries(monitoring.dashboard())]
    exprs += [r["expr"] for r in monitoring.alert_rules()]
    names = set().union(*(monitoring.metric_names(e) for e in exprs))
    missing = sorted(n for n in names if n not in code)
    assert not missing, missing


def test_a_real_prometheus_runs_every_dashboard_query(tmp_path: Path) -> None:
    target = next(t for t in toolchain.targets() if t.name == "prometheus")
    if not toolchain.is_built(target):
        if _required():
            pytest.fail("Prometheus is not built (python -m e2e.toolchain prometheus)")
        pytest.skip("Prometheus is not built: python -m e2e.toolchain prometheus")
    with prometheus.running([], tmp_path) as server:
        for title, expr in monitoring.queries(monitoring.dashboard()):
            try:
                server.query(expr)
            except Exception as exc:  # the HTTP 400 of a query Prometheus cannot parse or evaluate
                raise AssertionError(f"{title}: {expr}: {exc}") from exc
