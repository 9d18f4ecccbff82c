"""The router's Prometheus metrics: plain counters on the hot path, metric families at scrape time.

Every update runs on the event loop and is an integer addition on a per-variant object; a
scrape turns them into metric families (prometheus-client's own ``inc``/``observe`` take a lock
per value and were a sixth of the worker's time per request, docs/benchmarks.md).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from evolved_runtime.router.shadow import ShadowBook

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
BOUNDS = tuple(floatToGoString(b) for b in (*LATENCY_BUCKETS, float("inf")))  # type: ignore[no-untyped-call]
ERROR_CLASSES = ("connect", "connect_timeout", "reset", "timeout", "midstream", "no_endpoint", "upstream_5xx")


class VariantStats:
    """One variant's counters. ``codes`` counts answers by status class (index 2 is 2xx)."""

    __slots__ = ("buckets", "codes", "cost_usd", "errors", "latency_sum", "mirror", "requests", "retries", "tiers",
                 "verdicts")  # fmt: skip

    def __init__(self) -> None:
        self.requests = 0
        self.codes = [0] * 6
        self.errors: Counter[str] = Counter()
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.tiers: Counter[str] = Counter()
        self.verdicts: Counter[str] = Counter()
        self.cost_usd = 0.0
        self.retries = 0
        self.mirror: Counter[str] = Counter()  # as a mirror target: sent, dropped, failed

    def answered(self, status: int, seconds: float) -> None:
        self.codes[min(status // 100, 5)] += 1
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds


Gauges = Callable[[], tuple[dict[str, int], dict[tuple[str, str], int]]]  # weights; (variant, state) -> endpoints


class RouterStats(Collector):
    def __init__(self, shadow: ShadowBook, gauges: Gauges) -> None:
        self.variants: dict[str, VariantStats] = {}
        self.shadow = shadow
        self.gauges = gauges
        self.ejections: Counter[str] = Counter()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def of(self, variant: str) -> VariantStats:
        stats = self.variants.get(variant)
        if stats is None:
            stats = self.variants[variant] = VariantStats()
        return stats

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def collect(self) -> Iterator[Metric]:
        prefix = "evolved_router_"
        weights, endpoints = self.gauges()
        per_variant = {**dict.fromkeys(weights), **dict.fromkeys(self.variants)}
        stats = {name: self.of(name) for name in per_variant}

        def counter(name: str, text: str, labels: list[str], rows: Iterator[tuple[list[str], float]]) -> Metric:
            family = CounterMetricFamily(prefix + name, text, labels=labels)
            for values, value in rows:
                family.add_metric(values, value)
            return family

        def gauge(name: str, text: str, labels: list[str], rows: Iterator[tuple[list[str], float]]) -> Metric:
            family = GaugeMetricFamily(prefix + name, text, labels=labels)
            for values, value in rows:
                family.add_metric(values, value)
            return family

        yield counter("requests", "Requests routed to a variant (retries not counted again).", ["variant"],
                      (([n], s.requests) for n, s in stats.items()))  # fmt: skip
        yield counter("responses", "Answers sent to clients, by status class.", ["variant", "code"],
                      (([n, f"{c}xx"], s.codes[c]) for n, s in stats.items() for c in range(1, 6)))  # fmt: skip
        yield counter("errors", "Failed attempts by class (connect, connect_timeout, reset, timeout, midstream, "
                      "no_endpoint, upstream_5xx).", ["variant", "class"],
                      (([n, e], s.errors[e]) for n, s in stats.items() for e in ERROR_CLASSES))  # fmt: skip
        yield counter("retries", "Requests sent again after a connection failure.", ["variant"],
                      (([n], s.retries) for n, s in stats.items()))  # fmt: skip
        histogram = HistogramMetricFamily(prefix + "request_duration_seconds",
                                          "Time from a request's end to its answer's end.", labels=["variant"])  # fmt: skip
        for name, s in stats.items():
            cumulative, buckets = 0, []
            for bound, count in zip(BOUNDS, s.buckets, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            histogram.add_metric([name], buckets, s.latency_sum)
        yield histogram
        yield counter("tiers", "Answers by the worker's x-evolved-tier.", ["variant", "tier"],
                      (([n, t], c) for n, s in stats.items() for t, c in s.tiers.items()))  # fmt: skip
        yield counter("verdicts", "Answers by the worker's x-evolved-verdict.", ["variant", "verdict"],
                      (([n, v], c) for n, s in stats.items() for v, c in s.verdicts.items()))  # fmt: skip
        yield counter("cost_usd", "Sum of the worker's x-evolved-cost-usd.", ["variant"],
                      (([n], s.cost_usd) for n, s in stats.items()))  # fmt: skip
        yield counter("mirror_requests", "Copies of requests sent to a mirror variant, by result (sent, dropped "
                      "when the in-flight bound was reached, failed).", ["variant", "result"],
                      (([n, r], s.mirror[r]) for n, s in stats.items() for r in ("sent", "dropped", "failed")))  # fmt: skip
        yield counter("shadow_comparisons", "Mirrored requests by comparison of the mirror's verdict with the "
                      "primary's (agree, disagree, missing: one side had no verdict).", ["primary", "mirror", "result"],
                      (([p, m, r], c) for (p, m), row in self.shadow.counts.items() for r, c in row.items()))  # fmt: skip
        yield gauge("shadow_agreement_ratio", "Share of compared mirrored requests whose verdicts agree.",
                    ["primary", "mirror"], (([p, m], r) for (p, m), r in self.shadow.ratios().items()))  # fmt: skip
        yield gauge("weight", "The weight the router uses per variant.", ["variant"],
                    (([n], w) for n, w in weights.items()))  # fmt: skip
        yield gauge("endpoints", "Endpoints per variant by state (healthy, probation, ejected).", ["variant", "state"],
                    (([n, st], c) for (n, st), c in endpoints.items()))  # fmt: skip
        yield counter("ejections", "Endpoints ejected after consecutive failures.", ["variant"],
                      (([n], self.ejections[n]) for n in stats))  # fmt: skip
