"""Pure: the router's counters over a window -> one :class:`Sample` per variant.

Both sources bring the same thing: for each counter the router exports (``COUNTERS``), its
increase over the window per label set (:data:`Totals`). The ``router`` source gets it by
subtracting two scrapes of ``/metrics``; the ``prometheus`` source from ``increase(...)``.
:func:`samples` turns totals into samples the same way for both:

- requests: ``evolved_router_requests_total{variant}``;
- errors: ``evolved_router_responses_total{variant, code="5xx"}`` (answers with a 5xx status,
  the router's own 502/503/504 included; a retried failed attempt that ended in a good answer is
  not an error the client saw);
- p95: from the increase of ``evolved_router_request_duration_seconds_bucket{variant, le}`` with
  :func:`quantile` (the ``prometheus`` source has Prometheus compute it);
- tiers: ``evolved_router_tiers_total{variant, tier}``; solver answers are tiers 1 and 2, solver
  verdicts the answers whose ``evolved_router_verdicts_total{verdict}`` is not ``UNKNOWN``
  (workers send a verdict only with a solver's answer);
- cost: ``evolved_router_cost_usd_total{variant}``;
- agreement of a variant: ``agree / (agree + disagree)`` over
  ``evolved_router_shadow_comparisons_total{primary, mirror=<variant>, result}`` with a primary
  among the measured variants (``missing``, one side without a verdict, is not compared).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from prometheus_client.parser import text_string_to_metric_families

from evolved_operator.analysis import Sample

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs
Totals = dict[tuple[str, Labels], float]  # (sample name, labels) -> value (a total, or an increase)

REQUESTS = "evolved_router_requests_total"
RESPONSES = "evolved_router_responses_total"
BUCKETS = "evolved_router_request_duration_seconds_bucket"
TIERS = "evolved_router_tiers_total"
VERDICTS = "evolved_router_verdicts_total"
COST = "evolved_router_cost_usd_total"
SHADOW = "evolved_router_shadow_comparisons_total"
# every counter the analysis reads, with the labels it keeps (the rest are summed away)
COUNTERS: dict[str, tuple[str, ...]] = {
    REQUESTS: ("variant",),
    RESPONSES: ("variant", "code"),
    BUCKETS: ("variant", "le"),
    TIERS: ("variant", "tier"),
    VERDICTS: ("variant", "verdict"),
    COST: ("variant",),
    SHADOW: ("primary", "mirror", "result"),
}
SOLVER_TIERS = ("1", "2")
QUANTILE = 0.95


def labels(**pairs: str) -> Labels:
    return tuple(sorted(pairs.items()))


def parse(text: str) -> Totals:
    """The router's counters in a Prometheus text exposition, summed over labels not kept.

    Raises ValueError on text that is not the exposition format."""
    out: Totals = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            keep = COUNTERS.get(s.name)
            if keep is None:
                continue
            key = (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k in keep)))
            out[key] = out.get(key, 0.0) + float(s.value)
    return out


def increase(before: Totals, after: Totals) -> Totals | None:
    """``after - before`` per series; a series new in ``after`` started at 0. None when any
    counter went down: the router restarted and the difference means nothing."""
    out: Totals = {}
    for key, value in after.items():
        old = before.get(key, 0.0)
        if value < old:
            return None
        out[key] = value - old
    return out


def quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of a histogram given as (upper bound, cumulative count) pairs, as
    Prometheus' ``histogram_quantile`` computes it: linear interpolation inside the bucket that
    holds the rank (from 0 in the first bucket); in the ``+Inf`` bucket, the highest finite
    bound. None without observations (Prometheus says NaN)."""
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    counts, running = [], 0.0
    for _, count in ordered:  # Prometheus' fix for buckets that are not monotonic (scrapes racing)
        running = max(running, count)
        counts.append(running)
    total = counts[-1]
    if total <= 0 or math.isnan(total):
        return None
    rank = q * total
    index = next(i for i, count in enumerate(counts) if count >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[index][0]
    if index == 0 and upper <= 0:
        return upper
    lower = ordered[index - 1][0] if index > 0 else 0.0
    below = counts[index - 1] if index > 0 else 0.0
    inside = counts[index] - below
    return lower + (upper - lower) * (rank - below) / inside


def _get(totals: Totals, name: str, **pairs: str) -> float:
    return totals.get((name, labels(**pairs)), 0.0)


def _rows(totals: Totals, name: str) -> Iterable[tuple[dict[str, str], float]]:
    for (sample, pairs), value in totals.items():
        if sample == name:
            yield dict(pairs), value


def _p95_ms(totals: Totals, variant: str) -> float | None:
    buckets = [(float(row["le"]), value) for row, value in _rows(totals, BUCKETS) if row.get("variant") == variant]
    seconds = quantile(QUANTILE, buckets)
    return None if seconds is None else seconds * 1000


def samples(
    totals: Totals, variants: Sequence[str], p95_ms: Mapping[str, float | None] | None = None
) -> dict[str, Sample]:
    """A sample per variant that has a request count in ``totals`` (others are left out: no
    data). ``p95_ms`` overrides the quantile computed from buckets (Prometheus computes its own)."""
    present = {row.get("variant") for row, _ in _rows(totals, REQUESTS)}
    out = {}
    for variant in variants:
        if variant not in present:
            continue
        tiers = {row["tier"]: v for row, v in _rows(totals, TIERS) if row.get("variant") == variant and "tier" in row}
        verdicts = {row.get("verdict", ""): v for row, v in _rows(totals, VERDICTS) if row.get("variant") == variant}
        shadow = {"agree": 0.0, "disagree": 0.0}
        for row, value in _rows(totals, SHADOW):
            if row.get("mirror") == variant and row.get("primary") in variants and row.get("result") in shadow:
                shadow[row["result"]] += value
        compared = shadow["agree"] + shadow["disagree"]
        out[variant] = Sample(
            requests=_get(totals, REQUESTS, variant=variant),
            errors=_get(totals, RESPONSES, variant=variant, code="5xx"),
            p95_ms=_p95_ms(totals, variant) if p95_ms is None else _finite(p95_ms.get(variant)),
            solver_answers=sum(tiers.get(t, 0.0) for t in SOLVER_TIERS),
            solver_verdicts=sum(v for verdict, v in verdicts.items() if verdict != "UNKNOWN"),
            tiers=tiers,
            cost_usd=_get(totals, COST, variant=variant),
            agreement=shadow["agree"] / compared if compared > 0 else None,
            compared=compared,
        )
    return out


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value
