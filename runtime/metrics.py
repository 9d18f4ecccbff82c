"""Prometheus metrics, correct with several uvicorn workers (prometheus-client multiprocess mode).

With several workers the CLI points PROMETHEUS_MULTIPROC_DIR at a fresh directory before they
start; each worker then records its samples in prometheus-client's metric objects, which write
them there, and /metrics aggregates the files. With one worker (the default; or an app created
in a test process) the per-request metrics are plain counters in this process, exposed by a
collector at scrape time: prometheus-client's ``inc`` and ``observe`` (a lock per value, a
Python loop over the buckets) were a sixth of the chat handler's time per request
(docs/benchmarks.md). Both ways expose the same names, labels and buckets. The request path
calls ``request_started``, ``request_finished`` and ``answered``; all run on the event loop.
"""

from __future__ import annotations

import functools
import os
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# name, help, labels (the per-request metrics)
REQUESTS = ("evolved_requests", "Chat requests by outcome.", ("pipeline", "variant", "tier", "status"))
LATENCY = ("evolved_request_duration_seconds", "Chat request latency.", ("pipeline", "variant", "tier"))
SOLVER = ("evolved_solver_duration_seconds", "Solver time per request.", ("solver", "verdict"))
TIERS = (
    "evolved_tier_decisions",
    "Requests answered per tier (the tier distribution).",
    ("pipeline", "variant", "tier"),
)
ESCALATIONS = ("evolved_escalations", "Escalations (level up or LLM fallback).", ("pipeline", "variant"))
IN_FLIGHT = ("evolved_in_flight_requests", "Chat requests being served.", ("pipeline", "variant"))
LLM_CALLS = (
    "evolved_llm_calls",
    "LLM provider calls by outcome (ok, or the error code) and class (ok, retriable, permanent).",
    ("provider", "outcome", "class"),
)
TOKENS = ("evolved_llm_tokens", "LLM tokens by kind (input, output).", ("provider", "model", "variant", "tier", "kind"))
COST = (
    "evolved_llm_cost_usd",
    "LLM spend in USD (provider prices times tokens).",
    ("provider", "model", "variant", "tier"),
)
CACHE = ("evolved_cache_lookups", "Answer cache lookups by level (memory, redis) and result (hit, miss).",
         ("level", "result"))  # fmt: skip
REFUSED = ("evolved_admission_refused", "Requests refused before the pipeline: auth, rate limit, budget.",
           ("stage", "reason"))  # fmt: skip
REDIS_ERRORS = ("evolved_redis_errors", "Redis commands that failed (the worker served on without Redis).", ("use",))
ALWAYS_SHOWN = (REQUESTS[0], TIERS[0], ESCALATIONS[0])
COUNTERS = (REQUESTS, TIERS, ESCALATIONS, LLM_CALLS, TOKENS, COST, CACHE, REFUSED, REDIS_ERRORS)

PROGRAM_INFO = Gauge(
    "evolved_program_info",
    "Loaded evolved programs (value 1), with their hashes.",
    ["component", "hash"],
    multiprocess_mode="max",
)
READY = Gauge("evolved_ready", "1 when the worker is ready to serve.", multiprocess_mode="min")
REPLACEMENT_REASONS = ("timeout", "crash", "protocol", "recycled")
SOLVER_PROCESSES_REPLACED = Counter(
    "evolved_solver_processes_replaced",
    "Solver processes replaced: killed past a call's time limit (timeout), died (crash), sent an"
    " unreadable or unasked answer (protocol), or recycled before memory kept by native code ran out.",
    ["reason"],
)
for _reason in REPLACEMENT_REASONS:  # every reason shows from the start, at 0
    SOLVER_PROCESSES_REPLACED.labels(_reason)

Labels = tuple[str, ...]


class LocalStats:
    """The per-request metrics of one process as plain counters (no locks: every update and
    every scrape runs on the event loop). Histograms keep a count per bucket and a sum."""

    def __init__(self) -> None:
        self.counters: dict[str, defaultdict[Labels, float]] = {
            name: defaultdict(int) for name, _, _ in (*COUNTERS, IN_FLIGHT)
        }
        self.histograms: dict[str, dict[Labels, list[float]]] = {LATENCY[0]: {}, SOLVER[0]: {}}

    def add(self, metric: tuple[str, str, Labels], labels: Labels, amount: float = 1) -> None:
        self.counters[metric[0]][labels] += amount

    def observe(self, metric: tuple[str, str, Labels], labels: Labels, value: float) -> None:
        series = self.histograms[metric[0]].get(labels)
        if series is None:
            series = self.histograms[metric[0]][labels] = [0.0] * (len(LATENCY_BUCKETS) + 2)  # buckets, +Inf, sum
        series[bisect_left(LATENCY_BUCKETS, value)] += 1
        series[-1] += value

    def collect(self) -> Iterator[Metric]:
        for name, help_text, labels in COUNTERS:
            counter = CounterMetricFamily(name, help_text, labels=labels)
            for values, count in self.counters[name].items():
                counter.add_metric(values, count)
            if counter.samples or name in ALWAYS_SHOWN:  # the LLM path's counters show once used
                yield counter
        name, help_text, labels = IN_FLIGHT
        gauge = GaugeMetricFamily(name, help_text, labels=labels)
        for values, count in self.counters[name].items():
            gauge.add_metric(values, count)
        yield gauge
        for name, help_text, labels in (LATENCY, SOLVER):
            histogram = HistogramMetricFamily(name, help_text, labels=labels)
            for values, series in self.histograms[name].items():
                cumulative: float = 0.0
                buckets: list[tuple[str, float]] = []
                for bound, in_bucket in zip((*LATENCY_BUCKETS, float("inf")), series, strict=False):
                    cumulative += in_bucket
                    buckets.append((floatToGoString(bound), cumulative))  # type: ignore[no-untyped-call]
                histogram.add_metric(values, buckets, series[-1])
            yield histogram


class LibraryStats:
    """The same metrics as prometheus-client objects (multiprocess mode: they write to files)."""

    def __init__(self) -> None:
        self.metrics: dict[str, Any] = {
            **{metric[0]: Counter(*metric) for metric in COUNTERS},
            IN_FLIGHT[0]: Gauge(*IN_FLIGHT, multiprocess_mode="livesum"),
            LATENCY[0]: Histogram(*LATENCY, buckets=LATENCY_BUCKETS),
            SOLVER[0]: Histogram(*SOLVER, buckets=LATENCY_BUCKETS),
        }

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one instance per process, lives as long)
    def child(self, name: str, labels: Labels) -> Any:
        return self.metrics[name].labels(*labels)

    def add(self, metric: tuple[str, str, Labels], labels: Labels, amount: float = 1) -> None:
        self.child(metric[0], labels).inc(amount)

    def observe(self, metric: tuple[str, str, Labels], labels: Labels, value: float) -> None:
        self.child(metric[0], labels).observe(value)


def _stats() -> LocalStats | LibraryStats:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return LibraryStats()
    local = LocalStats()
    REGISTRY.register(local)
    return local


STATS = _stats()


def request_started(pipeline: str, variant: str) -> None:
    STATS.add(IN_FLIGHT, (pipeline, variant))


def request_finished(pipeline: str, variant: str, tier: str, status: str, seconds: float) -> None:
    STATS.add(IN_FLIGHT, (pipeline, variant), -1)
    STATS.add(REQUESTS, (pipeline, variant, tier, status))
    STATS.observe(LATENCY, (pipeline, variant, tier), seconds)


def answered(
    pipeline: str, variant: str, tier: str, escalated: bool, solver: str | None, verdict: str | None,
    solve_seconds: float | None,
) -> None:  # fmt: skip
    """What the pipeline did for an answered request: its tier, escalation and solver time."""
    STATS.add(TIERS, (pipeline, variant, tier))
    if escalated:
        STATS.add(ESCALATIONS, (pipeline, variant))
    if solver and solve_seconds is not None:
        STATS.observe(SOLVER, (solver, verdict or "none"), solve_seconds)


def llm_call(provider: str, outcome: str, retriable: bool) -> None:
    """One provider call: ``outcome`` is ``ok`` or the error code (classed retriable or permanent)."""
    STATS.add(LLM_CALLS, (provider, outcome, "ok" if outcome == "ok" else "retriable" if retriable else "permanent"))


def llm_spent(provider: str, model: str, variant: str, tier: str, usage: dict[str, int], usd: float) -> None:
    STATS.add(TOKENS, (provider, model, variant, tier, "input"), usage.get("prompt_tokens", 0))
    STATS.add(TOKENS, (provider, model, variant, tier, "output"), usage.get("completion_tokens", 0))
    STATS.add(COST, (provider, model, variant, tier), usd)


def cache_lookup(level: str, hit: bool) -> None:
    STATS.add(CACHE, (level, "hit" if hit else "miss"))


def refused(stage: str, reason: str) -> None:
    STATS.add(REFUSED, (stage, reason))


def redis_error(use: str) -> None:
    STATS.add(REDIS_ERRORS, (use,))


class Probes:
    """Gauges read at scrape time from the worker's state (breakers, health, budgets)."""

    def __init__(self) -> None:
        self.sources: dict[str, Callable[[], Iterator[Metric]]] = {}  # by name: a new app replaces the old

    def collect(self) -> Iterator[Metric]:
        for source in list(self.sources.values()):
            yield from source()


PROBES = Probes()
REGISTRY.register(PROBES)


def gauge(name: str, help_text: str, labels: Labels, values: Iterable[tuple[Labels, float]]) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for label_values, value in values:
        family.add_metric(label_values, value)
    return family


def solver_process_replaced(reason: str) -> None:
    """A solver process was replaced (``reason``: one of REPLACEMENT_REASONS)."""
    SOLVER_PROCESSES_REPLACED.labels(reason).inc()


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(PROBES)  # this process's view of its own state
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
