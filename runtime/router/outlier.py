"""Passive outlier ejection of one endpoint: a pure state machine over (state, event, now).

A failure is a transport failure seen by a real request (connection refused or reset, connect
timeout, the connection closed before any byte of the answer); an HTTP status, even a 5xx, is
the worker's answer and never counts. ``threshold`` failures in a row eject the endpoint for
``base_s``; when that time is over it takes traffic again on probation: one more failure ejects
it again for twice as long (up to ``max_s``), one success makes it healthy and forgets the past
ejections. Results of requests still in flight when the endpoint was ejected change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    threshold: int = 3  # consecutive failures that eject
    base_s: float = 5.0  # first ejection
    max_s: float = 60.0  # longest ejection (each ejection in a row doubles it)


@dataclass(frozen=True, slots=True)
class Health:
    failures: int = 0  # consecutive failures
    ejected_until: float = 0.0  # monotonic time; available again from then
    ejections: int = 0  # ejections in a row without a success in between

    def available(self, now: float) -> bool:
        return now >= self.ejected_until

    def state(self, now: float) -> str:
        """``healthy``, ``ejected`` or ``probation`` (back after an ejection, not yet proven)."""
        if not self.available(now):
            return "ejected"
        return "probation" if self.ejections else "healthy"


HEALTHY = Health()


def failed(health: Health, now: float, policy: Policy) -> Health:
    """The state after a failure at ``now``."""
    if not health.available(now):
        return health  # already ejected: a late failure of an earlier request adds nothing
    failures = health.failures + 1
    if failures < policy.threshold:
        return Health(failures, health.ejected_until, health.ejections)
    ejections = health.ejections + 1
    duration = min(policy.base_s * 2 ** (ejections - 1), policy.max_s)
    # back on probation with one failure to go: the next failure ejects again, for longer
    return Health(policy.threshold - 1, now + duration, ejections)


def succeeded(health: Health, now: float) -> Health:
    """The state after a success at ``now``."""
    if health is HEALTHY or not health.available(now):
        return health  # nothing to forget, or a late success of a request sent before the ejection
    return HEALTHY
