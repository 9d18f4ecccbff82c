"""The chart's monitoring assets checked with Prometheus' own tools: ``promtool`` (built from the
Prometheus Go module on first use, the version the tests' Prometheus runs) checks and unit-tests the
alert rules; the dashboard's queries and the alerts' expressions are run by a real Prometheus (one
with no targets, and the end-to-end test's, scraping a rollout's router, workers and operator)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from e2e import chart, prometheus, toolchain
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


def queries(board: dict[str, Any], namespace: str = "prod", pipeline: str = "qa") -> list[tuple[str, str]]:
    """(panel title, PromQL with the variables filled in: the pipeline ``namespace/pipeline``) for
    every target of every panel."""
    variables = {**VARIABLES, "$namespace": namespace, "$pipeline": pipeline}
    out = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = str(target["expr"])
            for variable, value in variables.items():
                expr = expr.replace(variable, value)
            out.append((str(panel["title"]), expr))
    return out


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of the alert rule file."""
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def operator_target(address: str) -> prometheus.Target:
    """The operator's metrics port at ``address`` scraped as the chart's ServiceMonitor has the
    Prometheus Operator scrape it: the Service's namespace and name as the target labels
    ``namespace`` and ``service``, a job named after the Service, and the endpoint's ``honorLabels``
    (without it, the pipeline's ``namespace`` on the operator's series would lose to the operator's)."""
    docs = chart.documents(chart.template("--set", "metrics.serviceMonitor.enabled=true"))
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    (endpoint,) = monitor["spec"]["endpoints"]
    service = monitor["metadata"]["name"]  # the chart names the Service and its ServiceMonitor alike
    labels = {"namespace": monitor["metadata"]["namespace"], "service": service}
    return prometheus.Target(address, labels, job=service, honor_labels=bool(endpoint.get("honorLabels", False)))


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
