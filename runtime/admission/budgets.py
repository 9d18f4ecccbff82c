"""Budgets in USD per hour, day and month (UTC), for the pipeline and per caller.

Before an LLM call an estimate is reserved: the prompt's characters / 4 as input tokens and the
request's ``max_tokens`` (or ``estimate_output_tokens``) as output, at the first provider's
prices. The reservation is one atomic add (memory: no await in between; Redis: INCRBYFLOAT,
which returns the new total): a call whose total *before* its own estimate was already at or
over a limit is refused (and its reservation given back). After the call the reservation is
settled with the real cost. So concurrent requests can overspend a limit by at most one
estimate (the call that crosses it) plus, for each call in flight, its real cost above its
estimate. Crossing ``alert_ratio`` of a pipeline budget, judged when a call settles (real costs,
not a call's estimate), logs one ``budget alert`` event per window; ``evolved_budget_used_ratio``
shows the share spent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import Metric

from evolved_runtime import metrics
from evolved_runtime.admission.redis_store import SharedRedis
from evolved_runtime.config import BudgetConfig, ProviderConfig
from evolved_runtime.errors import ServiceError

log = logging.getLogger("evolved_runtime.budgets")
WINDOWS = ("hour", "day", "month")
FORMATS = {"hour": "%Y%m%d%H", "day": "%Y%m%d", "month": "%Y%m"}
TTL_S = {"hour": 7200, "day": 2 * 86400, "month": 62 * 86400}


_last_ids: tuple[int, dict[str, str]] = (-1, {})


def window_ids(now: float) -> dict[str, str]:
    """The hour, day and month ``now`` falls in (UTC), computed once per second."""
    global _last_ids
    second = int(now)
    if _last_ids[0] != second:
        t = time.gmtime(second)
        _last_ids = (second, {w: time.strftime(FORMATS[w], t) for w in WINDOWS})
    return _last_ids[1]


def estimate_usd(messages: list[dict[str, Any]], params: dict[str, Any], default_output: int,
                 price: ProviderConfig) -> float:  # fmt: skip
    chars = sum(len(str(m.get("content") or "")) for m in messages)
    output = params.get("max_tokens") or price.max_tokens or default_output
    return price.cost_usd(chars // 4 + 1, int(output))


def over(spent_before: float, limit: float) -> bool:
    """Refuse when the total before this call's estimate had already reached the limit."""
    return spent_before >= limit


class Budgets:
    def __init__(self, config: BudgetConfig, redis: SharedRedis | None, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.redis = redis if config.backend == "redis" else None
        self.clock = clock
        self.limits: list[tuple[str, str, float]] = [
            (scope, window, usd)
            for scope, window, usd in (
                ("pipeline", "hour", config.hourly_usd), ("pipeline", "day", config.daily_usd),
                ("pipeline", "month", config.monthly_usd), ("key", "hour", config.per_key_hourly_usd),
                ("key", "day", config.per_key_daily_usd), ("key", "month", config.per_key_monthly_usd),
            )
            if usd is not None
        ]  # fmt: skip
        self.spent: dict[str, float] = {}
        self.alerted: set[str] = set()
        metrics.PROBES.sources["budgets"] = self.collect

    def _keys(self, caller: str, now: float) -> list[tuple[str, float, str, str]]:
        ids = window_ids(now)
        out = []
        for scope, window, usd in self.limits:
            who = "pipeline" if scope == "pipeline" else f"key:{caller}"
            out.append((f"budget:{who}:{window}:{ids[window]}", usd, scope, window))
        return out

    async def _add(self, keys: list[str], amount: float) -> list[float]:
        """Add ``amount`` to each key; the new totals (Redis when configured and up, else memory)."""
        if self.redis is not None:
            redis = self.redis

            async def op(client: Any) -> list[float]:
                async with client.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.incrbyfloat(redis.key(key), amount)
                        pipe.expire(redis.key(key), TTL_S[key.split(":")[-2]])
                    out = await pipe.execute()
                return [float(v) for v in out[::2]]

            totals = await redis.run("budgets", op)
            if totals is not None:
                for key, total in zip(keys, totals, strict=True):
                    self.spent[key] = total  # the latest shared total, for the gauge
                return totals
        for key in keys:
            self.spent[key] = self.spent.get(key, 0.0) + amount
        return [self.spent[key] for key in keys]

    def exceeded_now(self, caller: str) -> ServiceError | None:
        """From this process's view (no Redis round trip): the refusal for a spent budget, if any."""
        for key, usd, scope, window in self._keys(caller, self.clock()):
            if over(self.spent.get(key, 0.0), usd):
                return self._refusal(usd, scope, window)
        return None

    def _refusal(self, usd: float, scope: str, window: str) -> ServiceError:
        """429 ``budget_exceeded``, with ``Retry-After`` until the window turns."""
        return ServiceError(429, "budget_exceeded", f"the {scope} budget of ${usd:g} per {window} is spent; "
                            "answers the solvers can give are still served", retry_after=str(
                                self._retry_after(window)))  # fmt: skip

    async def reserve(self, caller: str, estimate: float) -> float:
        """Reserve ``estimate`` USD, or raise a 429 ``budget_exceeded`` (reserving nothing)."""
        entries = self._keys(caller, self.clock())
        if not entries:
            return 0.0
        totals = await self._add([e[0] for e in entries], estimate)
        for (_, usd, scope, window), total in zip(entries, totals, strict=True):
            if over(total - estimate, usd):
                await self._add([e[0] for e in entries], -estimate)
                metrics.refused("budget", f"{scope}_{window}")
                raise self._refusal(usd, scope, window)
        return estimate

    async def settle(self, caller: str, reserved: float, actual: float) -> None:
        """Replace the reservation by the real cost; the alert is judged here, on real costs (plus
        the reservations of calls still in flight), never on this call's estimate."""
        entries = self._keys(caller, self.clock())
        if not entries:
            return
        keys = [e[0] for e in entries]
        totals = (
            await self._add(keys, actual - reserved) if actual != reserved else [self.spent.get(k, 0.0) for k in keys]
        )
        for (key, usd, scope, window), total in zip(entries, totals, strict=True):
            self._alert(key, usd, scope, window, total)

    def _alert(self, key: str, usd: float, scope: str, window: str, total: float) -> None:
        if scope == "pipeline" and total >= usd * self.config.alert_ratio and key not in self.alerted:
            self.alerted.add(key)
            log.warning("budget alert", extra={"fields": {"scope": scope, "window": window, "limit_usd": usd,
                        "spent_usd": round(total, 6), "alert_ratio": self.config.alert_ratio}})  # fmt: skip

    def _retry_after(self, window: str) -> int:
        now = self.clock()
        step = {"hour": 3600, "day": 86400}.get(window)
        return int(step - now % step) + 1 if step else 86400

    def collect(self) -> Iterator[Metric]:
        ids = window_ids(self.clock())
        values = []
        for scope, window, usd in self.limits:
            if scope == "pipeline":
                spent = self.spent.get(f"budget:pipeline:{window}:{ids[window]}", 0.0)
                values.append(((window,), spent / usd))
        yield metrics.gauge("evolved_budget_used_ratio", "Share of the pipeline's budget spent, per window.",
                            ("window",), values)  # fmt: skip
        alert = [((w,), float(r >= self.config.alert_ratio)) for (w,), r in values]
        yield metrics.gauge("evolved_budget_alert", "1 when a pipeline budget is past its alert ratio.", ("window",),
                            alert)  # fmt: skip
