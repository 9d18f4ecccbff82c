"""The Redis shared by pods (cache, limits, budgets), through redis-py's asyncio client.

Redis is optional on every path: a failed command is logged once per outage, counted in
``evolved_redis_errors_total`` and skipped (the caller falls back to this process's memory);
for ``retry_s`` after a failure Redis is not tried at all, so an outage costs no latency.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from evolved_runtime import metrics
from evolved_runtime.config import RedisConfig

T = TypeVar("T")
log = logging.getLogger("evolved_runtime.redis")


class SharedRedis:
    def __init__(self, config: RedisConfig) -> None:
        self.config = config
        url = config.url()
        self.client: aioredis.Redis | None = (
            aioredis.Redis.from_url(url, socket_timeout=config.timeout_s, socket_connect_timeout=config.timeout_s)
            if url
            else None
        )
        self.down_until = 0.0
        self.down = False

    def key(self, *parts: str) -> str:
        return ":".join((self.config.prefix, *parts))

    async def run(self, use: str, op: Callable[[aioredis.Redis], Awaitable[T]]) -> T | None:
        """``op``'s result, or None when Redis is not configured, resting after a failure, or failing now."""
        client = self.client
        if client is None or (self.down and time.monotonic() < self.down_until):
            return None
        try:
            result = await op(client)
        except (RedisError, OSError, TimeoutError) as exc:
            metrics.redis_error(use)
            self.down_until = time.monotonic() + self.config.retry_s
            if not self.down:
                self.down = True
                log.warning("redis unavailable: serving without it", extra={"fields": {"use": use,
                            "error": f"{type(exc).__name__}: {exc}"}})  # fmt: skip
            return None
        if self.down:
            self.down = False
            log.info("redis is back", extra={"fields": {"use": use}})
        return result

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
