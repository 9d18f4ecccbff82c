"""Prometheus metrics, correct with several uvicorn workers (prometheus-client multiprocess mode).

With several workers the CLI points PROMETHEUS_MULTIPROC_DIR at a fresh directory before they
start; each worker writes its samples there and /metrics aggregates them. Without that variable
(one worker, or an app created in a test process) the default in-process registry is used.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("evolved_requests", "Chat requests by outcome.", ["pipeline", "variant", "tier", "status"])
LATENCY = Histogram(
    "evolved_request_duration_seconds",
    "Chat request latency.",
    ["pipeline", "variant", "tier"],
    buckets=LATENCY_BUCKETS,
)
SOLVER = Histogram(
    "evolved_solver_duration_seconds", "Solver time per request.", ["solver", "verdict"], buckets=LATENCY_BUCKETS
)
TIERS = Counter(
    "evolved_tier_decisions", "Requests answered per tier (the tier distribution).", ["pipeline", "variant", "tier"]
)
ESCALATIONS = Counter("evolved_escalations", "Escalations (level up or LLM fallback).", ["pipeline", "variant"])
IN_FLIGHT = Gauge(
    "evolved_in_flight_requests", "Chat requests being served.", ["pipeline", "variant"], multiprocess_mode="livesum"
)
PROGRAM_INFO = Gauge(
    "evolved_program_info",
    "Loaded evolved programs (value 1), with their hashes.",
    ["component", "hash"],
    multiprocess_mode="max",
)
READY = Gauge("evolved_ready", "1 when the worker is ready to serve.", multiprocess_mode="min")


@functools.lru_cache(maxsize=4096)
def labeled(metric: Any, *values: str) -> Any:
    """``metric.labels(*values)``, kept: prometheus-client's lookup (validation, a lock, a dict)
    was 2% of a worker's CPU per request. The label values come from bounded sets (pipeline,
    variant, tier, status, solver, verdict), so the cache stays small."""
    return metric.labels(*values)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
