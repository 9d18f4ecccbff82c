"""Mirroring and shadow comparison: which requests are copied, and how the answers compare.

A mirrored request has a primary (the variant that answers the client) and a mirror (the
variant that gets a copy, whose answer is read and dropped). Workers report their verdict in
the ``x-evolved-verdict`` header; when both answers are in, the pair is compared: ``agree``,
``disagree``, or ``missing`` when either side has no verdict (an error, a stream, an answer
without one). The agreement rate per (primary, mirror) pair is agree / (agree + disagree): a
correctness signal for a new program that needs no labels.
"""

from __future__ import annotations

from collections import Counter

from evolved_runtime.router.table import Mirror


def mirrors(mirror: Mirror | None, primary: str, draw: float) -> bool:
    """Whether a request served by ``primary`` is copied, for a uniform ``draw`` in [0, 1)."""
    return mirror is not None and primary != mirror.variant and draw * 100 < mirror.percent


def compare(primary: bytes | None, mirror: bytes | None) -> str:
    if primary is None or mirror is None:
        return "missing"
    return "agree" if primary == mirror else "disagree"


class ShadowBook:
    """Comparison counts per (primary, mirror) variant pair."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], Counter[str]] = {}

    def record(self, primary: str, mirror: str, result: str) -> None:
        row = self.counts.get((primary, mirror))
        if row is None:
            row = self.counts[primary, mirror] = Counter()
        row[result] += 1

    def ratios(self) -> dict[tuple[str, str], float]:
        out = {}
        for pair, row in self.counts.items():
            compared = row["agree"] + row["disagree"]
            if compared:
                out[pair] = row["agree"] / compared
        return out


class ShadowPair:
    """One mirrored request: waits for both verdicts, then records the comparison once."""

    __slots__ = ("book", "mirror", "pending", "primary", "verdicts")

    def __init__(self, book: ShadowBook, primary: str, mirror: str) -> None:
        self.book = book
        self.primary = primary
        self.mirror = mirror
        self.verdicts: list[bytes | None] = [None, None]
        self.pending = 2

    def answered(self, side: int, verdict: bytes | None) -> None:
        """``side`` 0 is the primary, 1 the mirror; ``verdict`` None when it had none."""
        self.verdicts[side] = verdict
        self.pending -= 1
        if self.pending == 0:
            self.book.record(self.primary, self.mirror, compare(*self.verdicts))
