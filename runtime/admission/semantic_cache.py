"""The semantic level of the answer cache: LLM (Tier 0) answers served to paraphrases.

After the exact cache misses, the last user message (white space collapsed) is embedded with
all-MiniLM-L6-v2 (``embedding.py``) and compared, by cosine, with the cached prompts of the
same *bucket*: the variant, the program hashes, the model, the sampling parameters and every
turn before the last user message (exactly, normalised like the exact key). A prompt at least
``threshold`` similar gets that answer (``X-Evolved-Cache: semantic``).

Only Tier 0 answers the router sent straight to the LLM fill it: never a solver answer (Tier
1-2), nor an LLM answer reached by escalating from the solvers or from formal input. A request is
never looked up semantically (and never fills) when its prompt is formal input (a fenced block),
is longer than the model's 256 tokens (the tail would not count), carries a solver tier hint, or
when its numbers differ from the cached prompt's (an embedding barely sees "17" vs "71"). Memory
only (per worker, LRU with the exact cache's TTL): vectors are not shared through Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from evolved_runtime import metrics
from evolved_runtime.admission.embedding import MAX_TOKENS, MiniLM
from evolved_runtime.config import CacheConfig

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(slots=True)
class Probe:
    """One request's semantic lookup, kept on its ticket to fill the cache after a Tier 0 answer."""

    bucket: str
    text: str
    numbers: tuple[str, ...]
    vector: NDArray[np.float32]
    similarity: float = 0.0


@dataclass(slots=True)
class Entry:
    bucket: str
    numbers: tuple[str, ...]
    vector: NDArray[np.float32]
    expires: float
    answer: bytes


def bucket_of(
    variant: str, program_hash: str, model: str, before: list[tuple[str, str]], params: dict[str, Any]
) -> str:
    normal = [(role, " ".join(content.split())) for role, content in before]
    raw = orjson.dumps(["semantic", variant, program_hash, model, normal, params], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def prompt_of(turns: list[tuple[str, str]], params: dict[str, Any]) -> tuple[list[tuple[str, str]], str] | None:
    """(the turns before the prompt, the prompt) when the request may use the semantic level."""
    if not turns or turns[-1][0] != "user":
        return None
    hint = params.get("tier")
    if hint is not None and str(hint) != "0":
        return None
    text = " ".join(turns[-1][1].split())
    if not text or "```" in text:  # formal input goes to the solvers
        return None
    return turns[:-1], text


def answered_by_llm_directly(answer: bytes) -> bool:
    """A stored answer (chat.py's cache record) of Tier 0, with no escalation and no formal input."""
    try:
        evolved = orjson.loads(answer).get("evolved") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return False
    return bool(evolved.get("tier") == 0 and not evolved.get("escalations") and not evolved.get("formal_input"))


class SemanticCache:
    def __init__(self, config: CacheConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = config.semantic.threshold
        self.max_entries = config.semantic.max_entries
        self.ttl_s = config.ttl_s
        self.clock = clock
        self.model = MiniLM()
        self.entries: OrderedDict[str, Entry] = OrderedDict()  # key: bucket + normalised prompt; LRU order
        self.buckets: dict[str, dict[str, Entry]] = {}
        self.matrices: dict[str, tuple[list[str], NDArray[np.float32]]] = {}  # stacked vectors per bucket
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="embedding")  # numpy releases the GIL

    def _vector(self, text: str) -> NDArray[np.float32] | None:
        ids = self.model.tokens(text)
        if len(ids) > MAX_TOKENS:  # the model would not see the tail: no semantic match
            return None
        return self.model.embed_ids(ids)

    async def lookup(self, bucket: str, text: str) -> tuple[Probe | None, bytes | None]:
        """(the probe for a later fill, the cached answer or None)."""
        loop = asyncio.get_running_loop()
        vector = await loop.run_in_executor(self.worker, self._vector, text)
        if vector is None:
            return None, None
        probe = Probe(bucket, text, tuple(NUMBER.findall(text)), vector)
        found = self._nearest(probe)
        metrics.cache_lookup("semantic", found is not None)
        return probe, found

    def _nearest(self, probe: Probe) -> bytes | None:
        import numpy as np

        members = self.buckets.get(probe.bucket)
        if not members:
            return None
        keys, matrix = self._matrix(probe.bucket, members)
        scores = matrix @ probe.vector
        now = self.clock()
        for index in np.argsort(-scores):
            score = float(scores[index])
            if score < self.threshold:
                return None
            entry = members.get(keys[index])
            if entry is None or entry.expires <= now:
                self._drop(probe.bucket + keys[index])
                continue
            if entry.numbers != probe.numbers:
                continue
            probe.similarity = score
            self.entries.move_to_end(probe.bucket + keys[index])
            return entry.answer
        return None

    def _matrix(self, bucket: str, members: dict[str, Entry]) -> tuple[list[str], NDArray[np.float32]]:
        import numpy as np

        cached = self.matrices.get(bucket)
        if cached is None:
            keys = list(members)
            cached = (keys, np.stack([members[k].vector for k in keys]))
            self.matrices[bucket] = cached
        return cached

    def put(self, probe: Probe, answer: bytes) -> None:
        key = probe.bucket + probe.text
        self._drop(key)
        entry = Entry(probe.bucket, probe.numbers, probe.vector, self.clock() + self.ttl_s, answer)
        self.entries[key] = entry
        self.buckets.setdefault(probe.bucket, {})[probe.text] = entry
        self.matrices.pop(probe.bucket, None)
        while len(self.entries) > self.max_entries:
            self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return
        members = self.buckets[entry.bucket]
        members.pop(key[len(entry.bucket) :], None)
        self.matrices.pop(entry.bucket, None)
        if not members:
            del self.buckets[entry.bucket]

    def close(self) -> None:
        self.worker.shutdown(wait=False, cancel_futures=True)
