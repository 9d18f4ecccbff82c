"""The exact-match answer cache: memory (LRU with TTL) first, Redis second (shared by pods).

The key is a BLAKE2b digest of the variant, the program hashes, the model, the messages
(roles and contents, runs of white space made one space) and the sampling parameters, so a
new program or setting never serves an old answer. Solver answers (Tier 1-2) are cached
exactly like LLM answers. A request opts out with ``Cache-Control: no-cache`` (or ``no-store``).
After an exact miss, the optional semantic level (``semantic_cache.py``) may serve an LLM answer.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from evolved_runtime import metrics
from evolved_runtime.admission.redis_store import SharedRedis
from evolved_runtime.config import CacheConfig


def cache_key(variant: str, program_hash: str, model: str, turns: list[tuple[str, str]], params: dict[str, Any]) -> str:
    normal = [(role, " ".join(content.split())) for role, content in turns]
    raw = orjson.dumps([variant, program_hash, model, normal, params], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


class MemoryLRU:
    def __init__(self, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.max_entries, self.ttl_s, self.clock = max_entries, ttl_s, clock

    def get(self, key: str) -> bytes | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: bytes) -> None:
        self.entries[key] = (self.clock() + self.ttl_s, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


class AnswerCache:
    def __init__(self, config: CacheConfig, redis: SharedRedis | None) -> None:
        self.config = config
        self.memory = MemoryLRU(config.max_entries, config.ttl_s)
        self.redis = redis if config.redis else None

    async def get(self, key: str) -> tuple[str, bytes] | None:
        """(level, stored answer) or None."""
        found = self.memory.get(key)
        metrics.cache_lookup("memory", found is not None)
        if found is not None:
            return "memory", found
        if self.redis is None:
            return None
        redis = self.redis
        value = await redis.run("cache", lambda client: client.get(redis.key("cache", key)))
        metrics.cache_lookup("redis", isinstance(value, bytes))
        if not isinstance(value, bytes):
            return None
        self.memory.put(key, value)
        return "redis", value

    async def put(self, key: str, value: bytes) -> None:
        self.memory.put(key, value)
        if self.redis is not None:
            redis = self.redis
            ttl = max(1, int(self.config.ttl_s))
            await redis.run("cache", lambda client: client.set(redis.key("cache", key), value, ex=ttl))
