"""Which variant serves a request: by weight, or by a sticky key with consistent hashing.

Without a key the pick is a weighted random draw. With a key it is *weighted rendezvous
hashing*: every variant scores the key with ``weight / -ln(u)``, where ``u`` in (0, 1) is a
stable hash of (variant, key), and the highest score wins. That is the same as a race of
exponential clocks, so a variant wins a share of the keys equal to its share of the weight, the
same key always wins on the same variant while the weights stay, and a weight change moves only
the keys whose winner changed: raising one variant from 10 to 20 (of 100) moves 10% of the keys,
all of them to that variant, when there are two variants (tests/runtime/router/test_pick.py
measures it with three too). The hash is BLAKE2b, stable across processes and hosts, so every
router replica assigns a key the same way (Python's ``hash`` is salted per process).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from hashlib import blake2b
from itertools import accumulate

TWO_52 = float(2**52)  # 52 bits of the hash: (h + 0.5) / 2**52 stays below 1.0 in a float


@dataclass(frozen=True, slots=True)
class Split:
    """The variants that take traffic (weight > 0) with their cumulative weights, ready to draw from."""

    names: tuple[str, ...]
    weights: tuple[int, ...]
    cumulative: tuple[int, ...]
    salts: tuple[bytes, ...]

    @classmethod
    def of(cls, weights: dict[str, int]) -> Split:
        taking = [(n, w) for n, w in weights.items() if w > 0]
        names = tuple(n for n, _ in taking)
        ws = tuple(w for _, w in taking)
        return cls(names, ws, tuple(accumulate(ws)), tuple(n.encode() + b"\x00" for n in names))

    @property
    def total(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0

    def by_weight(self, draw: float) -> str | None:
        """The variant for a uniform ``draw`` in [0, 1) (None when no variant takes traffic)."""
        if not self.names:
            return None
        return self.names[bisect_right(self.cumulative, draw * self.total)]

    def by_key(self, key: bytes) -> str | None:
        """The variant that owns ``key`` (weighted rendezvous hashing; None when no variant takes traffic)."""
        best: str | None = None
        best_score = -1.0
        for name, weight, salt in zip(self.names, self.weights, self.salts, strict=True):
            h = int.from_bytes(blake2b(salt + key, digest_size=8).digest(), "big") >> 12
            score = weight / -math.log((h + 0.5) / TWO_52)
            if score > best_score:
                best, best_score = name, score
        return best

    def pick(self, key: bytes | None) -> str | None:
        return self.by_weight(random.random()) if key is None else self.by_key(key)
