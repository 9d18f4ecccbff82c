"""Pure: one measurement of the stable and candidate variants -> Passed, Failed or Inconclusive.

A chain of small policies (the style of ``conditions.py``). Two gates come first and may decide
alone: a measurement the source could not take, and a candidate that served fewer than
``minRequests`` requests in the window, are Inconclusive. Then every configured check runs and
returns a :class:`Check` with the measured value, the threshold and its own verdict:

- a value that cannot be computed (no data, NaN, a zero denominator, stable without enough
  traffic to compare with) makes the check Inconclusive, never Passed;
- any Failed check fails the measurement, even when others are Inconclusive (a 20% error rate
  needs no latency data to be bad);
- otherwise any Inconclusive check makes the measurement Inconclusive;
- with no check configured, the measurement passes once ``minRequests`` is met (the request
  count is then the only evidence: the candidate answered that many requests).

The caller counts Inconclusive results in a row against ``inconclusiveLimit``; this module judges
one measurement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from evolved_operator.analysis import Measurement, Sample, Verdict
from evolved_operator.api_strategy import Analysis

PASSED: Verdict = "Passed"
FAILED: Verdict = "Failed"
INCONCLUSIVE: Verdict = "Inconclusive"


@dataclass(frozen=True)
class Check:
    """One check's outcome. ``name`` is the setting users type (``maxErrorRate``); ``value`` is
    what was measured in the unit of ``threshold``, None when it could not be."""

    name: str
    value: float | None
    threshold: float
    verdict: Verdict
    message: str


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    checks: tuple[Check, ...]
    message: str


@dataclass(frozen=True)
class Window:
    """What the checks look at: the settings and both variants' samples (stable may be absent)."""

    settings: Analysis
    stable_name: str
    candidate_name: str
    stable: Sample | None
    candidate: Sample


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _ratio(part: float | None, whole: float | None) -> float | None:
    part, whole = _number(part), _number(whole)
    if part is None or whole is None or whole <= 0 or math.isinf(whole):
        return None
    return part / whole


def _bounded(name: str, label: str, value: float | None, limit: float, show: Callable[[float], str], missing: str,
             *, upper: bool) -> Check:  # fmt: skip
    """``value`` against ``limit`` (an upper bound, or a lower one); no value is Inconclusive."""
    if value is None or math.isnan(value):
        return Check(name, None, limit, INCONCLUSIVE, f"{label}: {missing}")
    failed = value > limit if upper else value < limit
    sign = {(True, True): ">", (True, False): "<=", (False, True): "<", (False, False): ">="}[upper, failed]
    return Check(name, value, limit, FAILED if failed else PASSED, f"{label} {show(value)} {sign} {show(limit)}")


def _at_most(name: str, label: str, value: float | None, limit: float, show: Callable[[float], str],
             missing: str) -> Check:  # fmt: skip
    return _bounded(name, label, value, limit, show, missing, upper=True)


def _at_least(name: str, label: str, value: float | None, limit: float, show: Callable[[float], str],
              missing: str) -> Check:  # fmt: skip
    return _bounded(name, label, value, limit, show, missing, upper=False)


def percent(value: float) -> str:
    return f"{value:.1f}%"


def points(value: float) -> str:
    return f"{value:.1f} points"


def millis(value: float) -> str:
    return f"{value:.0f} ms"


def times(value: float) -> str:
    return f"{value:.2f}x"


def dollars(value: float) -> str:
    return f"${value:.4f}"


def _stable_short(w: Window) -> str | None:
    """Why stable cannot be compared with (None: it can): it needs ``minRequests`` too."""
    s = w.stable
    if s is None:
        return f"no data for stable variant {w.stable_name}"
    requests = _number(s.requests)
    if requests is None:
        return f"stable variant {w.stable_name}'s request count is NaN"
    if requests < w.settings.min_requests:
        return (f"stable variant {w.stable_name} served {requests:.0f} request(s), fewer than the "
                f"{w.settings.min_requests} needed to compare")  # fmt: skip
    return None


def _error_rate(s: Sample) -> float | None:
    rate = _ratio(s.errors, s.requests)
    return None if rate is None else rate * 100


# -- checks: each returns None when it is not configured ---------------------------------------

CheckFn = Callable[[Window], Check | None]
Compare = Callable[[Window, Sample, float], Check]


def check_error_rate(w: Window) -> Check | None:
    limit = w.settings.max_error_rate
    if limit is None:
        return None
    return _at_most("maxErrorRate", "error rate", _error_rate(w.candidate), limit, percent, "no value (NaN)")


def against_stable(name: str, label: str, setting: Callable[[Analysis], float | None]) -> Callable[[Compare], CheckFn]:
    """A check that compares with stable: not configured -> None; stable without ``minRequests``
    in the window -> Inconclusive; else the comparison with stable's sample and the limit."""

    def wrap(compare: Compare) -> CheckFn:
        def check(w: Window) -> Check | None:
            limit = setting(w.settings)
            if limit is None:
                return None
            why = _stable_short(w)
            if why is not None:
                return Check(name, None, float(limit), INCONCLUSIVE, f"{label}: {why}")
            assert w.stable is not None
            return compare(w, w.stable, float(limit))

        check.__name__ = compare.__name__
        return check

    return wrap


def _detail(check: Check, detail: str) -> Check:
    """``check`` with both sides' values after its message (when it measured something)."""
    if check.value is None:
        return check
    return Check(check.name, check.value, check.threshold, check.verdict, f"{check.message} ({detail})")


@against_stable("maxErrorRateIncrease", "error rate increase", lambda s: s.max_error_rate_increase)
def check_error_rate_increase(w: Window, stable: Sample, limit: float) -> Check:
    cand, base = _error_rate(w.candidate), _error_rate(stable)
    if cand is None or base is None:
        return Check("maxErrorRateIncrease", None, limit, INCONCLUSIVE, "error rate increase: no value (NaN)")
    check = _at_most("maxErrorRateIncrease", "error rate increase", cand - base, limit, points, "no value (NaN)")
    return _detail(check, f"candidate {percent(cand)}, stable {percent(base)}")


def check_p95_latency(w: Window) -> Check | None:
    limit = w.settings.max_p95_latency_ms
    if limit is None:
        return None
    return _at_most("maxP95LatencyMs", "p95 latency", _number(w.candidate.p95_ms), float(limit), millis,
                    "no latency data")  # fmt: skip


@against_stable("maxP95LatencyRatio", "p95 latency ratio", lambda s: s.max_p95_latency_ratio)
def check_p95_latency_ratio(w: Window, stable: Sample, limit: float) -> Check:
    cand, base = _number(w.candidate.p95_ms), _number(stable.p95_ms)
    if cand is None or base is None:
        side = "candidate" if cand is None else "stable"
        return Check("maxP95LatencyRatio", None, limit, INCONCLUSIVE, f"p95 latency ratio: no latency data for {side}")
    check = _at_most("maxP95LatencyRatio", "p95 latency ratio", _ratio(cand, base), limit, times,
                     "stable's p95 latency is 0 ms")  # fmt: skip
    return _detail(check, f"candidate {millis(cand)}, stable {millis(base)}")


def check_solver_success(w: Window) -> Check | None:
    limit = w.settings.min_solver_success_rate
    if limit is None:
        return None
    rate = _ratio(w.candidate.solver_verdicts, w.candidate.solver_answers)
    return _at_least("minSolverSuccessRate", "solver success rate", None if rate is None else min(rate, 1.0) * 100,
                     limit, percent, "no solver answer (tier 1-2) in the window")  # fmt: skip


def tier_shares(s: Sample) -> dict[str, float] | None:
    """Tier -> percent of the sample's answers; None when it has no (or NaN) tier data."""
    counts = {tier: _number(count) for tier, count in s.tiers.items()}
    if any(count is None for count in counts.values()):
        return None
    total = sum(count for count in counts.values() if count is not None)
    if total <= 0:
        return None
    return {tier: (count or 0.0) * 100 / total for tier, count in counts.items()}


@against_stable("maxTierShift", "tier shift", lambda s: s.max_tier_shift)
def check_tier_shift(w: Window, stable: Sample, limit: float) -> Check:
    cand, base = tier_shares(w.candidate), tier_shares(stable)
    if cand is None or base is None:
        side = "candidate" if cand is None else "stable"
        return Check("maxTierShift", None, limit, INCONCLUSIVE, f"tier shift: no tier data for {side}")
    shifts = {tier: abs(cand.get(tier, 0.0) - base.get(tier, 0.0)) for tier in sorted({*cand, *base})}
    tier = max(shifts, key=lambda t: (shifts[t], t))
    check = _at_most("maxTierShift", "tier shift", shifts[tier], limit, points, "no value (NaN)")
    return _detail(check, f"tier {tier}: candidate {percent(cand.get(tier, 0.0))}, "
                          f"stable {percent(base.get(tier, 0.0))}")  # fmt: skip


def check_cost(w: Window) -> Check | None:
    limit = w.settings.max_cost_per_request_usd
    if limit is None:
        return None
    return _at_most("maxCostPerRequestUsd", "cost per request", _ratio(w.candidate.cost_usd, w.candidate.requests),
                    limit, dollars, "no value (NaN)")  # fmt: skip


def check_agreement(w: Window) -> Check | None:
    limit = w.settings.min_agreement
    if limit is None:
        return None
    compared = _number(w.candidate.compared)
    agreement = _number(w.candidate.agreement)
    if not compared or agreement is None:
        return Check("minAgreement", None, limit, INCONCLUSIVE,
                     f"agreement with {w.stable_name}: no mirrored request compared")  # fmt: skip
    check = _at_least("minAgreement", f"agreement with {w.stable_name}", agreement * 100, limit, percent, "")
    return Check(check.name, check.value, limit, check.verdict, f"{check.message} ({compared:.0f} compared)")


CHECKS: tuple[CheckFn, ...] = (
    check_error_rate,
    check_error_rate_increase,
    check_p95_latency,
    check_p95_latency_ratio,
    check_solver_success,
    check_tier_shift,
    check_cost,
    check_agreement,
)


# -- gates: decide alone, before any check --------------------------------------------------------


def gate_source_error(settings: Analysis, candidate: str, m: Measurement) -> Result | None:
    if m.error is None:
        return None
    return Result(INCONCLUSIVE, (), f"no measurement: {m.error}")


def gate_min_requests(settings: Analysis, candidate: str, m: Measurement) -> Result | None:
    sample = m.samples.get(candidate)
    need = float(settings.min_requests)
    if sample is None:
        check = Check("minRequests", None, need, INCONCLUSIVE, f"no data for candidate variant {candidate}")
    elif _number(sample.requests) is None:
        check = Check("minRequests", None, need, INCONCLUSIVE, f"candidate variant {candidate}'s request count is NaN")
    elif sample.requests < need:
        check = Check("minRequests", sample.requests, need, INCONCLUSIVE,
                      f"candidate variant {candidate} served {sample.requests:.0f} request(s), fewer than the "
                      f"{settings.min_requests} needed")  # fmt: skip
    else:
        return None
    return Result(INCONCLUSIVE, (check,), check.message)


GATES: tuple[Callable[[Analysis, str, Measurement], Result | None], ...] = (gate_source_error, gate_min_requests)


def combine(checks: tuple[Check, ...]) -> Result:
    """Failed wins, then Inconclusive; Passed only when every check passed."""
    for verdict in (FAILED, INCONCLUSIVE):
        hit = [c.message for c in checks if c.verdict == verdict]
        if hit:
            return Result(verdict, checks, "; ".join(hit))
    return Result(PASSED, checks, "; ".join(c.message for c in checks))


def judge(settings: Analysis, stable: str, candidate: str, measurement: Measurement) -> Result:
    """The verdict on ``candidate`` (compared with ``stable``) for one measurement."""
    for gate in GATES:
        decided = gate(settings, candidate, measurement)
        if decided is not None:
            return decided
    sample = measurement.samples[candidate]
    served = Check("minRequests", sample.requests, float(settings.min_requests), PASSED,
                   f"{sample.requests:.0f} request(s) >= {settings.min_requests}")  # fmt: skip
    window = Window(settings, stable, candidate, measurement.samples.get(stable), sample)
    checks = tuple(c for c in (check(window) for check in CHECKS) if c is not None)
    if not checks:
        return Result(PASSED, (served,), f"no check configured; {served.message}")
    return combine((served, *checks))
