"""One worker counts its per-request metrics itself; /metrics must read exactly as
prometheus-client's own metric objects would (names, labels, buckets, sums)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from evolved_runtime.metrics import (
    ESCALATIONS,
    IN_FLIGHT,
    LATENCY,
    LATENCY_BUCKETS,
    REQUESTS,
    SOLVER,
    TIERS,
    LocalStats,
)

LATENCIES = [0.0004, 0.001, 0.0011, 0.005, 0.3, 59.9, 60.0, 75.0]  # on and between bounds, past the last


def exposition(registry: CollectorRegistry) -> list[str]:
    lines = generate_latest(registry).decode().splitlines()
    return sorted(line for line in lines if "_created" not in line)


def test_local_counts_read_like_prometheus_client_metrics() -> None:
    local = LocalStats()
    ours = CollectorRegistry()
    ours.register(local)
    theirs = CollectorRegistry()
    requests = Counter(*REQUESTS, registry=theirs)
    tiers = Counter(*TIERS, registry=theirs)
    escalations = Counter(*ESCALATIONS, registry=theirs)
    in_flight = Gauge(*IN_FLIGHT, registry=theirs)
    latency = Histogram(*LATENCY, buckets=LATENCY_BUCKETS, registry=theirs)
    solver = Histogram(*SOLVER, buckets=LATENCY_BUCKETS, registry=theirs)

    for i, seconds in enumerate(LATENCIES):
        tier, status = str(i % 3), "200" if i % 4 else "503"
        local.add(IN_FLIGHT, ("p", "v"))
        in_flight.labels("p", "v").inc()
        local.add(IN_FLIGHT, ("p", "v"), -1)
        in_flight.labels("p", "v").dec()
        local.add(REQUESTS, ("p", "v", tier, status))
        requests.labels("p", "v", tier, status).inc()
        local.observe(LATENCY, ("p", "v", tier), seconds)
        latency.labels("p", "v", tier).observe(seconds)
        local.add(TIERS, ("p", "v", tier))
        tiers.labels("p", "v", tier).inc()
        local.observe(SOLVER, ("clingo", "SAT"), seconds / 10)
        solver.labels("clingo", "SAT").observe(seconds / 10)
    local.add(ESCALATIONS, ("p", "v"))
    escalations.labels("p", "v").inc()
    local.add(IN_FLIGHT, ("p", "w"))
    in_flight.labels("p", "w").inc()

    assert exposition(ours) == exposition(theirs)
    assert 'evolved_request_duration_seconds_bucket{le="+Inf",pipeline="p",tier="1",variant="v"} 3.0' in exposition(
        ours
    )
