"""Pure window arithmetic: the router's exposition parsed, two scrapes subtracted, p95 from
bucket increases as Prometheus' histogram_quantile computes it, totals turned into samples."""

from __future__ import annotations

import math

import pytest

from evolved_operator.analysis.prometheus_source import counter_query, p95_query, queries, selector, vector
from evolved_operator.analysis.window import (
    BUCKETS,
    COST,
    REQUESTS,
    RESPONSES,
    SHADOW,
    TIERS,
    VERDICTS,
    Totals,
    increase,
    labels,
    parse,
    quantile,
    samples,
)
from evolved_runtime.router.metrics import RouterStats
from evolved_runtime.router.shadow import ShadowBook

INF = float("inf")


def exposition() -> str:
    """The router's own /metrics text after a few answers (its real collector, no process)."""
    book = ShadowBook()
    stats = RouterStats(book, lambda: ({"stable": 90, "canary": 10}, {}))
    for variant, status, seconds, tier, verdict in [
        ("stable", 200, 0.004, "1", "VALID"),
        ("stable", 200, 0.02, "3", None),
        ("canary", 200, 0.2, "2", "UNKNOWN"),
        ("canary", 502, 1.5, None, None),
    ]:
        s = stats.of(variant)
        s.requests += 1
        s.answered(status, seconds)
        if tier is not None:
            s.tiers[tier] += 1
        if verdict is not None:
            s.verdicts[verdict] += 1
        s.cost_usd += 0.001
    book.record("stable", "canary", "agree")
    book.record("stable", "canary", "agree")
    book.record("stable", "canary", "disagree")
    book.record("stable", "canary", "missing")
    return stats.render()[0].decode()


def test_parsing_keeps_only_the_counters_the_analysis_reads() -> None:
    totals = parse(exposition())
    assert totals[(REQUESTS, labels(variant="canary"))] == 2
    assert totals[(RESPONSES, labels(variant="canary", code="5xx"))] == 1
    assert totals[(BUCKETS, labels(variant="stable", le="0.005"))] == 1
    assert totals[(BUCKETS, labels(variant="stable", le="+Inf"))] == 2
    assert totals[(TIERS, labels(variant="stable", tier="3"))] == 1
    assert totals[(VERDICTS, labels(variant="canary", verdict="UNKNOWN"))] == 1
    assert totals[(COST, labels(variant="stable"))] == pytest.approx(0.002)
    assert totals[(SHADOW, labels(primary="stable", mirror="canary", result="agree"))] == 2
    assert not any(name.startswith(("evolved_router_weight", "evolved_router_errors")) for name, _ in totals)


def test_text_that_is_not_an_exposition_raises() -> None:
    with pytest.raises(ValueError, match="invalid metric name"):
        parse("<html>not metrics</html>\n")


def test_the_samples_of_one_scrape_count_everything_since_the_router_started() -> None:
    got = samples(parse(exposition()), ["stable", "canary"])
    stable, canary = got["stable"], got["canary"]
    assert (stable.requests, stable.errors, stable.solver_answers, stable.solver_verdicts) == (2, 0, 1, 1)
    assert stable.p95_ms == pytest.approx(23.5)  # 1.9th of 2 observations: in (10 ms, 25 ms], 90% of the way
    assert stable.tiers == {"1": 1, "3": 1}
    assert stable.cost_usd == pytest.approx(0.002)
    assert (stable.agreement, stable.compared) == (None, 0)
    assert (canary.requests, canary.errors, canary.solver_answers, canary.solver_verdicts) == (2, 1, 1, 0)
    assert canary.agreement == pytest.approx(2 / 3)
    assert canary.compared == 3


def test_a_variant_without_a_request_series_has_no_sample() -> None:
    assert set(samples(parse(exposition()), ["stable", "canary", "ghost"])) == {"stable", "canary"}


def test_agreement_counts_only_primaries_among_the_measured_variants() -> None:
    totals = {(REQUESTS, labels(variant="canary")): 10.0,
              (SHADOW, labels(primary="other", mirror="canary", result="disagree")): 5.0,
              (SHADOW, labels(primary="stable", mirror="canary", result="agree")): 4.0}  # fmt: skip
    canary = samples(totals, ["stable", "canary"])["canary"]
    assert (canary.agreement, canary.compared) == (1.0, 4.0)


def test_the_increase_is_the_difference_and_new_series_start_at_zero() -> None:
    before = {(REQUESTS, labels(variant="a")): 10.0}
    after = {(REQUESTS, labels(variant="a")): 15.0, (TIERS, labels(variant="a", tier="1")): 3.0}
    assert increase(before, after) == {
        (REQUESTS, labels(variant="a")): 5.0,
        (TIERS, labels(variant="a", tier="1")): 3.0,
    }


def test_a_counter_going_down_means_a_restart_and_no_increase() -> None:
    before = {(REQUESTS, labels(variant="a")): 10.0, (COST, labels(variant="a")): 1.0}
    assert increase(before, {(REQUESTS, labels(variant="a")): 12.0, (COST, labels(variant="a")): 0.5}) is None


def buckets(*pairs: tuple[float, float]) -> list[tuple[float, float]]:
    return list(pairs)


QUANTILES = {
    "interpolates inside the bucket holding the rank": (
        buckets((0.1, 50), (0.2, 90), (0.4, 100), (INF, 100)), 0.95, 0.3),
    "interpolates from zero inside the first bucket": (buckets((0.1, 100), (INF, 100)), 0.95, 0.095),
    "gives the highest finite bound when the rank is in +Inf": (
        buckets((0.1, 10), (0.2, 20), (INF, 100)), 0.95, 0.2),
    "sorts buckets given out of order": (buckets((INF, 100), (0.2, 90), (0.1, 50), (0.4, 100)), 0.95, 0.3),
    "evens out buckets that are not monotonic": (buckets((0.1, 60), (0.2, 50), (0.4, 100), (INF, 100)), 0.7, 0.25),
    "a bucket bound at zero or below is the answer in the first bucket": (buckets((0.0, 10), (INF, 10)), 0.5, 0.0),
}  # fmt: skip


@pytest.mark.parametrize(("given", "q", "expected"), list(QUANTILES.values()), ids=list(QUANTILES))
def test_the_quantile_is_histogram_quantiles(given: list[tuple[float, float]], q: float, expected: float) -> None:
    assert quantile(q, given) == pytest.approx(expected)


NO_QUANTILE = {
    "no observation": buckets((0.1, 0), (INF, 0)),
    "no bucket": buckets(),
    "only +Inf": buckets((INF, 5)),
    "no +Inf bucket": buckets((0.1, 3), (0.2, 5)),
    "a NaN count": buckets((0.1, math.nan), (INF, math.nan)),
}


@pytest.mark.parametrize("given", list(NO_QUANTILE.values()), ids=list(NO_QUANTILE))
def test_no_quantile_where_prometheus_says_nan(given: list[tuple[float, float]]) -> None:
    assert quantile(0.95, given) is None


def test_a_window_of_two_scrapes_counts_only_what_came_between() -> None:
    first = parse(exposition())
    doubled: Totals = {key: value * 2 for key, value in first.items()}
    got = samples(increase(first, doubled) or {}, ["stable", "canary"])
    assert got["stable"].requests == 2
    assert got["canary"].errors == 1


def test_the_promql_filters_by_the_pipelines_labels_and_sums_over_router_pods() -> None:
    assert selector("prod", 'we"ird') == '{namespace="prod",pipeline="we\\"ird"}'
    assert counter_query(REQUESTS, "prod", "qa", 30) == (
        'sum by (variant) (increase(evolved_router_requests_total{namespace="prod",pipeline="qa"}[30s]))'
    )
    assert p95_query("prod", "qa", 30) == (
        "histogram_quantile(0.95, sum by (le, variant) "
        '(rate(evolved_router_request_duration_seconds_bucket{namespace="prod",pipeline="qa"}[30s])))'
    )
    assert set(queries("prod", "qa", 30)) == {REQUESTS, RESPONSES, TIERS, VERDICTS, COST, SHADOW, "p95"}


def test_an_instant_vector_answer_is_read_and_anything_else_refused() -> None:
    ok = {"status": "success", "data": {"resultType": "vector",
                                        "result": [{"metric": {"variant": "a"}, "value": [1.0, "NaN"]}]}}  # fmt: skip
    ((metric, value),) = vector(ok)
    assert metric == {"variant": "a"}
    assert math.isnan(value)
    with pytest.raises(ValueError, match="parse error"):
        vector({"status": "error", "errorType": "bad_data", "error": "parse error at char 3"})
    with pytest.raises(ValueError, match="expected a vector"):
        vector({"status": "success", "data": {"resultType": "matrix", "result": []}})
    with pytest.raises(ValueError, match="query failed"):
        vector(["not", "an", "object"])
