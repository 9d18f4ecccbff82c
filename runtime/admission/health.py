"""Health from recent traffic and circuit states: ``healthy``, ``degraded`` or ``unhealthy``.

The recent window is one bucket per second (requests, 5xx answers, latency sum), so recording
is a few additions. The verdict is a chain of small pure policies, each returning a reason
when it applies; the worst status named wins.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from evolved_runtime.config import HealthConfig

Status = Literal["healthy", "degraded", "unhealthy"]
RANK: dict[Status, int] = {"healthy": 0, "degraded": 1, "unhealthy": 2}


@dataclass(frozen=True)
class Recent:
    requests: int
    errors: int
    latency_s: float  # sum

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def mean_latency_s(self) -> float:
        return self.latency_s / self.requests if self.requests else 0.0


Policy = Callable[[Recent, Mapping[str, str], HealthConfig], tuple[Status, str] | None]


def circuits_all_open(recent: Recent, circuits: Mapping[str, str], config: HealthConfig) -> tuple[Status, str] | None:
    if circuits and all(state == "open" for state in circuits.values()):
        return "unhealthy", "every LLM provider's circuit is open"
    return None


def circuits_some_open(recent: Recent, circuits: Mapping[str, str], config: HealthConfig) -> tuple[Status, str] | None:
    bad = sorted(name for name, state in circuits.items() if state != "closed")
    if bad:
        return "degraded", "circuit not closed: " + ", ".join(f"{n} ({circuits[n]})" for n in bad)
    return None


def error_rate(recent: Recent, circuits: Mapping[str, str], config: HealthConfig) -> tuple[Status, str] | None:
    if recent.requests < config.min_requests:
        return None
    ratio = recent.error_ratio
    if ratio >= config.unhealthy_error_ratio:
        return "unhealthy", f"{ratio:.0%} of recent requests failed with 5xx"
    if ratio >= config.degraded_error_ratio:
        return "degraded", f"{ratio:.0%} of recent requests failed with 5xx"
    return None


def latency(recent: Recent, circuits: Mapping[str, str], config: HealthConfig) -> tuple[Status, str] | None:
    if recent.requests >= config.min_requests and recent.mean_latency_s >= config.degraded_latency_s:
        return "degraded", f"mean latency {recent.mean_latency_s:.1f}s"
    return None


POLICIES: tuple[Policy, ...] = (circuits_all_open, circuits_some_open, error_rate, latency)


def judge(recent: Recent, circuits: Mapping[str, str], config: HealthConfig) -> tuple[Status, list[str]]:
    status: Status = "healthy"
    reasons = []
    for policy in POLICIES:
        found = policy(recent, circuits, config)
        if found is not None:
            reasons.append(found[1])
            if RANK[found[0]] > RANK[status]:
                status = found[0]
    return status, reasons


class RecentTraffic:
    def __init__(self, window_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self.buckets: list[list[float]] = [[-1, 0, 0, 0.0] for _ in range(window_s)]  # second, requests, 5xx, latency

    def record(self, status: int, seconds: float) -> None:
        second = int(self.clock())
        bucket = self.buckets[second % self.window_s]
        if bucket[0] != second:
            bucket[:] = [second, 0, 0, 0.0]
        bucket[1] += 1
        if status >= 500:
            bucket[2] += 1
        bucket[3] += seconds

    def recent(self) -> Recent:
        oldest = int(self.clock()) - self.window_s
        live = [b for b in self.buckets if b[0] > oldest]
        return Recent(int(sum(b[1] for b in live)), int(sum(b[2] for b in live)), sum(b[3] for b in live))
