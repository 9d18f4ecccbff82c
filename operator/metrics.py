"""The operator's own Prometheus metrics, served by `evolved-operator run --metrics-port`.

Rollout phase, step and weights per pipeline are read from the controller's memory when
Prometheus scrapes (nothing is updated on the reconcile path for them); reconcile durations,
errors and analysis verdicts are counted as they happen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from evolved_operator.rollout.state import Phase

PHASES: tuple[str, ...] = Phase.__args__  # type: ignore[attr-defined]
REGISTRY = CollectorRegistry(auto_describe=True)
RECONCILE_SECONDS = Histogram(
    "evolved_operator_reconcile_duration_seconds",
    "Time of a full reconcile (read inputs, render, apply, status).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RECONCILE_ERRORS = Counter(
    "evolved_operator_reconcile_errors", "Reconciles whose writes failed (retried).", registry=REGISTRY
)
ANALYSES = Counter(
    "evolved_operator_analysis_runs",
    "Analysis measurements by verdict.",
    ["namespace", "pipeline", "verdict"],
    registry=REGISTRY,
)

Snapshot = Callable[[], tuple[int, list[tuple[str, str, dict[str, Any]]]]]
"""() -> (pending status refreshes, [(namespace, name, status as last written)])."""


class PipelineCollector(Collector):
    """Gauges from the statuses the controller last wrote."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        pending, statuses = self.snapshot()
        queue = GaugeMetricFamily("evolved_operator_work_queue_depth", "Status refreshes waiting to run.")
        queue.add_metric([], pending)
        yield queue
        phase = GaugeMetricFamily(
            "evolved_operator_rollout_phase",
            "1 for the rollout's current phase.",
            labels=["namespace", "pipeline", "phase"],
        )
        step = GaugeMetricFamily(
            "evolved_operator_rollout_step", "The rollout's step.", labels=["namespace", "pipeline"]
        )
        weight = GaugeMetricFamily(
            "evolved_operator_traffic_weight",
            "Effective weight per variant.",
            labels=["namespace", "pipeline", "variant"],
        )
        ready = GaugeMetricFamily(
            "evolved_operator_pipeline_ready", "1 when the pipeline is Ready.", labels=["namespace", "pipeline"]
        )
        for namespace, name, status in statuses:
            rollout = status.get("rollout") or {}
            if rollout:
                for each in PHASES:
                    phase.add_metric([namespace, name, each], 1.0 if rollout.get("phase") == each else 0.0)
                step.add_metric([namespace, name], float(rollout.get("step", 0)))
            for variant in (status.get("traffic") or {}).get("variants") or []:
                weight.add_metric([namespace, name, str(variant["name"])], float(variant["weight"]))
            is_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )
            ready.add_metric([namespace, name], 1.0 if is_ready else 0.0)
        yield from (phase, step, weight, ready)


def serve(port: int, snapshot: Snapshot) -> None:
    """Serve ``/metrics`` on ``port`` (all interfaces) from a thread."""
    REGISTRY.register(PipelineCollector(snapshot))
    start_http_server(port, registry=REGISTRY)
