"""Requests and tokens per minute per caller: a sliding window over two fixed minutes.

The count for "the last minute" is the current minute's count plus the previous minute's,
weighted by how much of it is still inside the window (Cloudflare's approximation; exact
enough for limits and two integers per caller). Counters live in this process or in Redis
(INCRBY on a key per minute, shared by pods); when Redis fails the memory counters take over.
A refusal is an HTTP 429 with ``Retry-After`` and an OpenAI-style error body.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from evolved_runtime import metrics
from evolved_runtime.admission.redis_store import SharedRedis
from evolved_runtime.config import LimitsConfig
from evolved_runtime.errors import ServiceError

WINDOW_S = 60.0


def sliding_count(previous: float, current: float, elapsed_s: float) -> float:
    """The count in the last minute, ``elapsed_s`` seconds into the current one."""
    return previous * max(0.0, 1 - elapsed_s / WINDOW_S) + current


def retry_after_s(previous: float, current: float, limit: float, elapsed_s: float) -> int:
    """Whole seconds until the sliding count drops below ``limit`` (at least 1)."""
    if current >= limit:
        return max(1, math.ceil(WINDOW_S - elapsed_s))
    if previous <= 0:
        return 1
    # previous * (1 - (elapsed + t) / W) + current < limit
    wait = WINDOW_S * (1 - (limit - current) / previous) - elapsed_s
    return max(1, math.ceil(wait))


class MemoryWindows:
    """Per key: [minute, count this minute, count last minute]."""

    def __init__(self) -> None:
        self.counts: dict[str, list[float]] = {}

    def read(self, key: str, minute: int) -> tuple[float, float]:
        entry = self.counts.get(key)
        if entry is None:
            return 0.0, 0.0
        if entry[0] == minute:
            return entry[2], entry[1]
        if entry[0] == minute - 1:
            return entry[1], 0.0
        return 0.0, 0.0

    def add(self, key: str, minute: int, amount: float) -> None:
        previous, current = self.read(key, minute)
        self.counts[key] = [minute, current + amount, previous]
        if len(self.counts) > 100_000:  # forget idle callers, oldest first
            for stale in [k for k, v in self.counts.items() if v[0] < minute - 1]:
                del self.counts[stale]


class RateLimiter:
    def __init__(self, config: LimitsConfig, redis: SharedRedis | None, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.redis = redis if config.backend == "redis" else None
        self.memory = MemoryWindows()
        self.clock = clock

    async def _counts(self, kind: str, caller: str, minute: int, add: float) -> tuple[float, float]:
        """(last minute, this minute) for ``caller``, after adding ``add`` to this minute."""
        if self.redis is not None:
            redis = self.redis
            now_key, prev_key = (
                redis.key("rl", kind, caller, str(minute)),
                redis.key("rl", kind, caller, str(minute - 1)),
            )

            async def op(client: object) -> tuple[float, float]:
                async with redis.client.pipeline(transaction=False) as pipe:  # type: ignore[union-attr]
                    if add:
                        pipe.incrbyfloat(now_key, add)
                        pipe.expire(now_key, 150)
                    else:
                        pipe.get(now_key)
                    pipe.get(prev_key)
                    out = await pipe.execute()
                return float(out[-1] or 0), float(out[0] or 0)

            got = await redis.run("limits", op)
            if got is not None:
                return got
        key = f"{kind}:{caller}"
        if add:
            self.memory.add(key, minute, add)
        return self.memory.read(key, minute)

    async def admit(self, caller: str) -> ServiceError | None:
        """Count one request for ``caller``; a 429 when it is over a limit."""
        now = self.clock()
        minute, elapsed = int(now // WINDOW_S), now % WINDOW_S
        rpm, tpm = self.config.requests_per_minute, self.config.tokens_per_minute
        if tpm is not None:
            previous, current = await self._counts("tokens", caller, minute, 0)
            if sliding_count(previous, current, elapsed) >= tpm:
                metrics.refused("rate_limit", "tokens")
                wait = retry_after_s(previous, current, tpm, elapsed)
                return ServiceError(429, "rate_limit_exceeded", f"over {tpm} tokens per minute; retry in {wait}s",
                                    retry_after=str(wait))  # fmt: skip
        if rpm is not None:
            previous, current = await self._counts("requests", caller, minute, 1)
            if sliding_count(previous, current, elapsed) > rpm:
                metrics.refused("rate_limit", "requests")
                wait = retry_after_s(previous, current - 1, rpm, elapsed)
                return ServiceError(429, "rate_limit_exceeded", f"over {rpm} requests per minute; retry in {wait}s",
                                    retry_after=str(wait))  # fmt: skip
        return None

    async def spent_tokens(self, caller: str, tokens: int) -> None:
        if self.config.tokens_per_minute is not None and tokens > 0:
            now = self.clock()
            await self._counts("tokens", caller, int(now // WINDOW_S), tokens)
