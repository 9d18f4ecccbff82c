"""A variant's endpoints: round robin over those not ejected, with each endpoint's health.

Health is kept per address, apart from the table, so it survives table changes (a weight change
does not forget that an endpoint is ejected). When every endpoint of a variant is ejected the
router does not refuse the variant: it goes on round robin over all of them (Envoy's "panic
mode"), since an ejected endpoint may still answer and a refusal certainly fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from evolved_runtime.router import outlier
from evolved_runtime.router.table import Address, Variant


class Endpoints:
    def __init__(self, policy: outlier.Policy | None = None) -> None:
        self.policy = policy or outlier.Policy()
        self.health: dict[Address, outlier.Health] = {}
        self._turn: dict[str, int] = {}

    def choose(self, variant: Variant, now: float, exclude: Address | None = None) -> Address | None:
        """The next endpoint of ``variant`` in round robin, skipping ejected ones and ``exclude``
        (None when the variant has no endpoint but ``exclude``)."""
        endpoints = variant.endpoints
        n = len(endpoints)
        if n == 0:
            return None
        start = self._turn.get(variant.name, 0)
        health = self.health
        fallback: Address | None = None
        for i in range(n):
            endpoint = endpoints[(start + i) % n]
            if endpoint == exclude:
                continue
            state = health.get(endpoint)
            if state is None or state.available(now):
                self._turn[variant.name] = (start + i + 1) % n
                return endpoint
            if fallback is None:
                fallback = endpoint
        if fallback is not None:  # every other endpoint is ejected: use one anyway (panic mode)
            self._turn[variant.name] = (start + 1) % n
        return fallback

    def failed(self, endpoint: Address, now: float) -> bool:
        """Record a failure; True when it ejected the endpoint."""
        before = self.health.get(endpoint, outlier.HEALTHY)
        after = self.health[endpoint] = outlier.failed(before, now, self.policy)
        return after.ejections > before.ejections

    def succeeded(self, endpoint: Address, now: float) -> None:
        before = self.health.get(endpoint)
        if before is not None:
            after = outlier.succeeded(before, now)
            if after is outlier.HEALTHY:
                del self.health[endpoint]
            else:
                self.health[endpoint] = after

    def state(self, endpoint: Address, now: float) -> str:
        return self.health.get(endpoint, outlier.HEALTHY).state(now)

    def forget_except(self, keep: Iterable[Address]) -> None:
        """Drop the health of addresses no longer in the table."""
        kept = set(keep)
        for endpoint in [e for e in self.health if e not in kept]:
            del self.health[endpoint]
