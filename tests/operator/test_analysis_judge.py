"""Pure analysis verdicts: gates, one table per check, NaN and missing data never pass."""

from __future__ import annotations

import math
from typing import Any

import pytest

from evolved_operator.analysis import Measurement, Sample
from evolved_operator.analysis.judge import CHECKS, Check, Result, combine, judge, tier_shares
from evolved_operator.api_strategy import Analysis

NAN = float("nan")
HEALTHY = Sample(requests=200, errors=2, p95_ms=120.0, solver_answers=100, solver_verdicts=95,
                 tiers={"1": 80, "2": 20, "3": 100}, cost_usd=0.2, agreement=0.99, compared=100)  # fmt: skip


def settings(**limits: Any) -> Analysis:
    return Analysis.model_validate({"minRequests": 50, **limits})


def measure(candidate: Sample | None = HEALTHY, stable: Sample | None = HEALTHY) -> Measurement:
    samples = {}
    if stable is not None:
        samples["stable"] = stable
    if candidate is not None:
        samples["canary"] = candidate
    return Measurement(samples=samples)


def run(limits: dict[str, Any], candidate: Sample | None = HEALTHY, stable: Sample | None = HEALTHY) -> Result:
    return judge(settings(**limits), "stable", "canary", measure(candidate, stable))


def the_check(result: Result, name: str) -> Check:
    return next(c for c in result.checks if c.name == name)


def sample(**fields: Any) -> Sample:
    return Sample(**{**HEALTHY.__dict__, **fields})


# -- gates ------------------------------------------------------------------------------------


def test_a_source_error_is_inconclusive_with_the_sources_message() -> None:
    result = judge(settings(maxErrorRate=5), "stable", "canary", Measurement(error="connection refused"))
    assert result == Result("Inconclusive", (), "no measurement: connection refused")


def test_a_source_error_wins_over_samples_that_would_pass() -> None:
    m = Measurement(samples={"canary": HEALTHY, "stable": HEALTHY}, error="first scrape: no window yet")
    assert judge(settings(), "stable", "canary", m).verdict == "Inconclusive"


GATED = {
    "zero requests": (
        sample(requests=0, errors=0),
        "candidate variant canary served 0 request(s), fewer than the 50 needed",
    ),
    "one request short of the minimum": (
        sample(requests=49, errors=0),
        "candidate variant canary served 49 request(s), fewer than the 50 needed",
    ),
    "no sample for the candidate at all": (None, "no data for candidate variant canary"),
    "a NaN request count": (sample(requests=NAN), "candidate variant canary's request count is NaN"),
}


@pytest.mark.parametrize(("candidate", "message"), list(GATED.values()), ids=list(GATED))
def test_a_candidate_without_enough_requests_is_inconclusive_saying_how_many(
    candidate: Sample | None, message: str
) -> None:
    result = run({"maxErrorRate": 5, "maxP95LatencyMs": 500}, candidate)
    assert (result.verdict, result.message) == ("Inconclusive", message)
    assert [(c.name, c.verdict, c.threshold) for c in result.checks] == [("minRequests", "Inconclusive", 50.0)]


def test_too_few_requests_is_inconclusive_even_when_every_one_failed() -> None:
    result = run({"maxErrorRate": 5}, sample(requests=10, errors=10))
    assert result.verdict == "Inconclusive"
    assert the_check(result, "minRequests").value == 10


def test_exactly_the_minimum_is_enough() -> None:
    result = run({"maxErrorRate": 5}, sample(requests=50, errors=0))
    assert result.verdict == "Passed"
    assert the_check(result, "minRequests").message == "50 request(s) >= 50"


def test_no_check_configured_passes_once_the_minimum_is_met_and_says_so() -> None:
    result = run({})
    assert result.verdict == "Passed"
    assert result.message == "no check configured; 200 request(s) >= 50"
    assert [c.name for c in result.checks] == ["minRequests"]


def test_no_check_configured_is_still_inconclusive_below_the_minimum() -> None:
    assert run({}, sample(requests=3)).verdict == "Inconclusive"


def test_no_check_configured_passes_without_a_stable_sample() -> None:
    assert run({}, stable=None).verdict == "Passed"


# -- one table for every check: (limits, candidate, stable, verdict, value, message) ---------------

CASES: dict[str, tuple[dict[str, Any], Sample, Sample | None, str, float | None, str]] = {
    # maxErrorRate
    "an error rate under the limit passes": (
        {"maxErrorRate": 5}, sample(errors=2), None, "Passed", 1.0, "error rate 1.0% <= 5.0%"),
    "an error rate equal to the limit passes": (
        {"maxErrorRate": 5}, sample(errors=10), None, "Passed", 5.0, "error rate 5.0% <= 5.0%"),
    "a 20% error rate fails a 5% limit": (
        {"maxErrorRate": 5}, sample(errors=40), None, "Failed", 20.0, "error rate 20.0% > 5.0%"),
    "a zero limit fails a single error": (
        {"maxErrorRate": 0}, sample(errors=1), None, "Failed", 0.5, "error rate 0.5% > 0.0%"),
    "a NaN error count is inconclusive": (
        {"maxErrorRate": 5}, sample(errors=NAN), None, "Inconclusive", None, "error rate: no value (NaN)"),
    # maxErrorRateIncrease
    "an error rate like stable's passes the increase check": (
        {"maxErrorRateIncrease": 2}, sample(errors=4), sample(errors=2), "Passed", 1.0,
        "error rate increase 1.0 points <= 2.0 points (candidate 2.0%, stable 1.0%)"),
    "a candidate better than stable passes the increase check": (
        {"maxErrorRateIncrease": 0}, sample(errors=0), sample(errors=20), "Passed", -10.0,
        "error rate increase -10.0 points <= 0.0 points (candidate 0.0%, stable 10.0%)"),
    "an error rate 10 points above stable's fails a 2 point limit": (
        {"maxErrorRateIncrease": 2}, sample(errors=22), sample(errors=2), "Failed", 10.0,
        "error rate increase 10.0 points > 2.0 points (candidate 11.0%, stable 1.0%)"),
    "the increase check is inconclusive without a stable sample": (
        {"maxErrorRateIncrease": 2}, HEALTHY, None, "Inconclusive", None,
        "error rate increase: no data for stable variant stable"),
    "the increase check is inconclusive when stable served too few requests": (
        {"maxErrorRateIncrease": 2}, HEALTHY, sample(requests=10, errors=0), "Inconclusive", None,
        "error rate increase: stable variant stable served 10 request(s), fewer than the 50 needed to compare"),
    "the increase check is inconclusive when stable's request count is NaN": (
        {"maxErrorRateIncrease": 2}, HEALTHY, sample(requests=NAN), "Inconclusive", None,
        "error rate increase: stable variant stable's request count is NaN"),
    "the increase check is inconclusive when stable's error count is NaN": (
        {"maxErrorRateIncrease": 2}, HEALTHY, sample(errors=NAN), "Inconclusive", None,
        "error rate increase: no value (NaN)"),
    # maxP95LatencyMs
    "a p95 under the limit passes": (
        {"maxP95LatencyMs": 500}, sample(p95_ms=120.0), None, "Passed", 120.0, "p95 latency 120 ms <= 500 ms"),
    "a p95 over the limit fails": (
        {"maxP95LatencyMs": 500}, sample(p95_ms=812.4), None, "Failed", 812.4, "p95 latency 812 ms > 500 ms"),
    "no latency data is inconclusive": (
        {"maxP95LatencyMs": 500}, sample(p95_ms=None), None, "Inconclusive", None, "p95 latency: no latency data"),
    "a NaN p95 is inconclusive, not a pass": (
        {"maxP95LatencyMs": 500}, sample(p95_ms=NAN), None, "Inconclusive", None, "p95 latency: no latency data"),
    # maxP95LatencyRatio
    "a p95 close to stable's passes the ratio check": (
        {"maxP95LatencyRatio": 1.5}, sample(p95_ms=130.0), sample(p95_ms=100.0), "Passed", 1.3,
        "p95 latency ratio 1.30x <= 1.50x (candidate 130 ms, stable 100 ms)"),
    "a p95 three times stable's fails a 1.5 ratio": (
        {"maxP95LatencyRatio": 1.5}, sample(p95_ms=300.0), sample(p95_ms=100.0), "Failed", 3.0,
        "p95 latency ratio 3.00x > 1.50x (candidate 300 ms, stable 100 ms)"),
    "the ratio check is inconclusive without a stable sample": (
        {"maxP95LatencyRatio": 1.5}, HEALTHY, None, "Inconclusive", None,
        "p95 latency ratio: no data for stable variant stable"),
    "the ratio check is inconclusive without stable latency data": (
        {"maxP95LatencyRatio": 1.5}, HEALTHY, sample(p95_ms=None), "Inconclusive", None,
        "p95 latency ratio: no latency data for stable"),
    "the ratio check is inconclusive with a NaN candidate p95": (
        {"maxP95LatencyRatio": 1.5}, sample(p95_ms=NAN), HEALTHY, "Inconclusive", None,
        "p95 latency ratio: no latency data for candidate"),
    "the ratio check is inconclusive when stable's p95 is 0": (
        {"maxP95LatencyRatio": 1.5}, HEALTHY, sample(p95_ms=0.0), "Inconclusive", None,
        "p95 latency ratio: stable's p95 latency is 0 ms"),
    # minSolverSuccessRate
    "a solver success rate over the minimum passes": (
        {"minSolverSuccessRate": 90}, sample(solver_answers=100, solver_verdicts=95), None, "Passed", 95.0,
        "solver success rate 95.0% >= 90.0%"),
    "a solver success rate under the minimum fails": (
        {"minSolverSuccessRate": 90}, sample(solver_answers=100, solver_verdicts=60), None, "Failed", 60.0,
        "solver success rate 60.0% < 90.0%"),
    "no solver answer in the window is inconclusive": (
        {"minSolverSuccessRate": 90}, sample(solver_answers=0, solver_verdicts=0), None, "Inconclusive", None,
        "solver success rate: no solver answer (tier 1-2) in the window"),
    "a NaN solver count is inconclusive": (
        {"minSolverSuccessRate": 90}, sample(solver_verdicts=NAN), None, "Inconclusive", None,
        "solver success rate: no solver answer (tier 1-2) in the window"),
    "more verdicts than answers (scrapes a moment apart) count as 100%": (
        {"minSolverSuccessRate": 90}, sample(solver_answers=10, solver_verdicts=11), None, "Passed", 100.0,
        "solver success rate 100.0% >= 90.0%"),
    # maxTierShift
    "the same tier mix as stable passes": (
        {"maxTierShift": 10}, HEALTHY, HEALTHY, "Passed", 0.0,
        "tier shift 0.0 points <= 10.0 points (tier 3: candidate 50.0%, stable 50.0%)"),
    "a candidate escalating 30 points more to the LLM fails a 10 point limit": (
        {"maxTierShift": 10}, sample(tiers={"1": 40, "2": 0, "3": 160}), HEALTHY, "Failed", 30.0,
        "tier shift 30.0 points > 10.0 points (tier 3: candidate 80.0%, stable 50.0%)"),
    "a tier only the candidate uses counts against stable's zero": (
        {"maxTierShift": 10}, sample(tiers={"1": 100, "none": 100}), sample(tiers={"1": 200}), "Failed", 50.0,
        "tier shift 50.0 points > 10.0 points (tier none: candidate 50.0%, stable 0.0%)"),
    "the tier check is inconclusive without a stable sample": (
        {"maxTierShift": 10}, HEALTHY, None, "Inconclusive", None, "tier shift: no data for stable variant stable"),
    "the tier check is inconclusive without candidate tier data": (
        {"maxTierShift": 10}, sample(tiers={}), HEALTHY, "Inconclusive", None, "tier shift: no tier data for candidate"),
    "the tier check is inconclusive with only zero tier counts at stable": (
        {"maxTierShift": 10}, HEALTHY, sample(tiers={"1": 0}), "Inconclusive", None,
        "tier shift: no tier data for stable"),
    "the tier check is inconclusive with a NaN tier count": (
        {"maxTierShift": 10}, sample(tiers={"1": NAN, "3": 10}), HEALTHY, "Inconclusive", None,
        "tier shift: no tier data for candidate"),
    # maxCostPerRequestUsd
    "a mean cost under the limit passes": (
        {"maxCostPerRequestUsd": 0.01}, sample(cost_usd=0.2), None, "Passed", 0.001,
        "cost per request $0.0010 <= $0.0100"),
    "a mean cost over the limit fails": (
        {"maxCostPerRequestUsd": 0.01}, sample(cost_usd=4.0), None, "Failed", 0.02,
        "cost per request $0.0200 > $0.0100"),
    "no cost at all passes a cost limit": (
        {"maxCostPerRequestUsd": 0.01}, sample(cost_usd=0.0), None, "Passed", 0.0,
        "cost per request $0.0000 <= $0.0100"),
    "a NaN cost is inconclusive": (
        {"maxCostPerRequestUsd": 0.01}, sample(cost_usd=NAN), None, "Inconclusive", None,
        "cost per request: no value (NaN)"),
    # minAgreement
    "agreement over the minimum passes": (
        {"minAgreement": 95}, sample(agreement=0.99, compared=100), None, "Passed", 99.0,
        "agreement with stable 99.0% >= 95.0% (100 compared)"),
    "agreement under the minimum fails": (
        {"minAgreement": 95}, sample(agreement=0.8, compared=40), None, "Failed", 80.0,
        "agreement with stable 80.0% < 95.0% (40 compared)"),
    "no mirrored request compared is inconclusive": (
        {"minAgreement": 95}, sample(agreement=None, compared=0), None, "Inconclusive", None,
        "agreement with stable: no mirrored request compared"),
    "a NaN agreement is inconclusive": (
        {"minAgreement": 95}, sample(agreement=NAN, compared=10), None, "Inconclusive", None,
        "agreement with stable: no mirrored request compared"),
    "an agreement with a NaN compared count is inconclusive": (
        {"minAgreement": 95}, sample(agreement=1.0, compared=NAN), None, "Inconclusive", None,
        "agreement with stable: no mirrored request compared"),
}  # fmt: skip


@pytest.mark.parametrize(("limits", "candidate", "stable", "verdict", "value", "message"), list(CASES.values()),
                         ids=list(CASES))  # fmt: skip
def test_each_check_measures_compares_and_says_what_it_saw(
    limits: dict[str, Any], candidate: Sample, stable: Sample | None, verdict: str, value: float | None, message: str
) -> None:
    result = run(limits, candidate, stable)
    (name,) = limits
    check = the_check(result, name)
    assert check.verdict == verdict
    assert check.message == message
    assert check.threshold == float(limits[name])
    if value is None:
        assert check.value is None
    else:
        assert check.value == pytest.approx(value)
    assert result.verdict == verdict
    assert message in result.message


def test_every_check_is_in_the_table_passing_failing_and_inconclusive() -> None:
    seen: dict[str, set[str]] = {}
    for limits, _, _, verdict, _, _ in CASES.values():
        (name,) = limits
        seen.setdefault(name, set()).add(verdict)
    assert len(seen) == len(CHECKS)
    assert all(verdicts == {"Passed", "Failed", "Inconclusive"} for verdicts in seen.values()), seen


ALL_LIMITS = {"maxErrorRate": 5, "maxErrorRateIncrease": 2, "maxP95LatencyMs": 500, "maxP95LatencyRatio": 1.5,
              "minSolverSuccessRate": 90, "maxTierShift": 10, "maxCostPerRequestUsd": 0.01, "minAgreement": 95}  # fmt: skip


def test_a_healthy_candidate_passes_every_check_in_a_fixed_order() -> None:
    result = run(ALL_LIMITS)
    assert result.verdict == "Passed"
    assert [c.name for c in result.checks] == ["minRequests", *ALL_LIMITS]
    assert all(c.verdict == "Passed" for c in result.checks)
    assert result.message.startswith("200 request(s) >= 50; error rate 1.0% <= 5.0%; ")


def test_one_failed_check_fails_even_when_others_are_inconclusive() -> None:
    result = run(ALL_LIMITS, sample(errors=40, p95_ms=None, agreement=None, compared=0), stable=None)
    assert result.verdict == "Failed"
    assert result.message == "error rate 20.0% > 5.0%"
    verdicts = {c.name: c.verdict for c in result.checks}
    assert verdicts["maxP95LatencyMs"] == verdicts["minAgreement"] == verdicts["maxTierShift"] == "Inconclusive"


def test_one_inconclusive_check_makes_an_otherwise_passing_measurement_inconclusive() -> None:
    result = run(ALL_LIMITS, sample(p95_ms=NAN))
    assert result.verdict == "Inconclusive"
    assert result.message == "p95 latency: no latency data; p95 latency ratio: no latency data for candidate"


def test_several_failures_are_all_named_in_the_message() -> None:
    result = run(ALL_LIMITS, sample(errors=40, p95_ms=900.0))
    assert result.verdict == "Failed"
    assert result.message.split("; ")[:3] == [
        "error rate 20.0% > 5.0%",
        "error rate increase 19.0 points > 2.0 points (candidate 20.0%, stable 1.0%)",
        "p95 latency 900 ms > 500 ms",
    ]


def test_a_missing_stable_leaves_absolute_checks_decisive() -> None:
    result = run({"maxErrorRate": 5, "maxP95LatencyMs": 500}, stable=None)
    assert result.verdict == "Passed"


def test_an_all_nan_sample_is_never_a_pass() -> None:
    blank = Sample(requests=100, errors=NAN, p95_ms=NAN, solver_answers=NAN, solver_verdicts=NAN,
                   tiers={"1": NAN}, cost_usd=NAN, agreement=NAN, compared=NAN)  # fmt: skip
    result = run(ALL_LIMITS, blank, blank)
    assert result.verdict == "Inconclusive"
    assert [c.verdict for c in result.checks[1:]] == ["Inconclusive"] * len(ALL_LIMITS)
    assert all(c.value is None for c in result.checks[1:])


def test_the_judge_does_not_care_which_names_the_variants_have() -> None:
    m = Measurement(samples={"blue": HEALTHY, "green": sample(errors=40)})
    result = judge(settings(maxErrorRate=5), "blue", "green", m)
    assert result.verdict == "Failed"
    assert judge(settings(maxErrorRate=5), "green", "blue", m).verdict == "Passed"


def test_combine_prefers_failed_then_inconclusive() -> None:
    passed, failed, unsure = (Check("a", 1, 1, v, v.lower()) for v in ("Passed", "Failed", "Inconclusive"))
    assert combine((passed, unsure, failed)).verdict == "Failed"
    assert combine((passed, unsure)) == Result("Inconclusive", (passed, unsure), "inconclusive")
    assert combine((passed,)).verdict == "Passed"


def test_tier_shares_are_percent_of_the_samples_answers() -> None:
    assert tier_shares(sample(tiers={"1": 1, "3": 3})) == {"1": 25.0, "3": 75.0}
    assert tier_shares(sample(tiers={})) is None
    shares = tier_shares(sample(tiers={"1": 0.5, "2": 0.5}))
    assert shares is not None
    assert math.isclose(sum(shares.values()), 100.0)
