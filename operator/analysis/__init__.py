"""Analysis: measure a candidate against the stable variant on live traffic, and judge.

``sources`` (behind the :class:`Source` protocol) read measurements: ``router`` scrapes the
router pods' own ``/metrics`` twice and takes the difference over the window; ``prometheus``
runs PromQL over a Prometheus HTTP API. ``judge`` is pure: a chain of small policies, one per
check, over two :class:`Sample` records; no data (or NaN) is Inconclusive, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Verdict = Literal["Passed", "Failed", "Inconclusive"]


@dataclass(frozen=True)
class Sample:
    """One variant's traffic over a window, as the router saw it (counts over the window)."""

    requests: float = 0.0
    errors: float = 0.0  # answers with status 5xx plus failed attempts the client saw
    p95_ms: float | None = None  # None: no latency data
    solver_answers: float = 0.0  # tier 1-2 answers
    solver_verdicts: float = 0.0  # tier 1-2 answers with a verdict other than UNKNOWN
    tiers: dict[str, float] = field(default_factory=dict)  # tier -> answers
    cost_usd: float = 0.0
    agreement: float | None = None  # share (0-1) of mirrored comparisons that agree; None: none compared
    compared: float = 0.0  # mirrored requests compared


@dataclass(frozen=True)
class Measurement:
    """What a source returns for one pipeline: a sample per variant, or why there is none."""

    samples: dict[str, Sample] = field(default_factory=dict)
    error: str | None = None  # the source could not be read (unreachable, bad answer): Inconclusive


class Source(Protocol):
    async def measure(self, namespace: str, pipeline: str, variants: list[str], window_s: int) -> Measurement:
        """Samples of ``variants`` over the last ``window_s`` seconds."""
        ...
