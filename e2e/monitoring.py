"""The chart's monitoring assets checked with Prometheus' own tools: ``promtool`` (built from the
Prometheus Go module on first use, the version the tests' Prometheus runs) checks and unit-tests the
alert rules; the dashboard's queries are run by a real Prometheus."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from e2e import chart, toolchain
from e2e.gitops import built_once
from e2e.paths import bin_dir

ALERTS = chart.CHART / "files" / "alerts.yaml"
ALERT_TESTS = chart.ROOT / "tools" / "monitoring" / "alerts_test.yaml"
DASHBOARD = chart.CHART / "dashboards" / "evolved-pipelines.json"
# What Grafana puts in the queries' variables, for running them outside Grafana.
VARIABLES = {"$namespace": "prod", "$pipeline": "qa", "$__rate_interval": "1m"}
_NAME = re.compile(r"\b(evolved_[a-z_]+)")


def promtool() -> Path:
    """promtool of the Prometheus module the tests run, built now if it never was."""
    version = toolchain.PROMETHEUS_VERSION
    out = bin_dir() / f"promtool-{version}"
    flags = " ".join(toolchain._prometheus_ldflags(version))
    package = f"github.com/prometheus/prometheus/cmd/promtool@{version}"
    cmd = ["go", "install", "-trimpath", "-tags", "remove_all_sd", "-ldflags", flags, package]
    return built_once(out, "promtool", cmd, {**toolchain.go_env(), "GOBIN": str(out), "GOFLAGS": ""})


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool()), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text()))


def queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL with the variables filled in) for every target of every panel."""
    out = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = str(target["expr"])
            for variable, value in VARIABLES.items():
                expr = expr.replace(variable, value)
            out.append((str(panel["title"]), expr))
    return out


def metric_names(promql: str) -> set[str]:
    """The series names a query reads, without the suffixes Prometheus' clients add."""
    names = set()
    for name in _NAME.findall(promql):
        for suffix in ("_total", "_bucket", "_count", "_sum"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        names.add(name)
    return names
