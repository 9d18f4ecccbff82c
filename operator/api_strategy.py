"""The rollout API (``spec.strategy``): how a candidate's new programs reach production.

- ``RollingUpdate`` (default): each variant's Deployment rolls by itself; weights stay as declared.
- ``Canary``: when the candidate's programs or image differ from the stable variant's, the
  operator walks ``steps`` (set a weight, pause, run an analysis), then promotes: the stable
  variant takes the candidate's programs by a rolling update while traffic stays on the
  candidate, and only then does traffic return to stable. A failed analysis rolls back at once.
- ``ABTest``: the declared weights hold (users kept sticky) while ``analysis`` runs at its
  interval; a failed analysis sets the candidate's weight to 0.

``promote``, ``abort`` and ``paused`` are declarative: set them in Git (or with
``kubectl evolved promote|abort|pause|resume``), nobody but the user clears them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evolved_operator.api_base import ApiModel, Rule, _one_of

DURATION = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"


def duration_seconds(text: str) -> int:
    """``1h2m3s`` -> 3723 (the CRD's pattern guarantees the form)."""
    total, number = 0, ""
    for char in text:
        if char.isdigit():
            number += char
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
    return total


class Pause(ApiModel):
    """Wait: for ``duration``, or (without one) until the rollout is promoted."""

    duration: str | None = Field(
        default=None,
        max_length=32,
        pattern=DURATION,
        description="How long, e.g. `30s`, `5m`, `1h30m`; unset: until `spec.strategy.promote` is set.",
    )


class Analysis(ApiModel):
    """Compare the candidate with the stable variant on live traffic. Every limit is optional; a
    check without data (or NaN) is Inconclusive, never a pass."""

    cel_rules = (
        Rule(
            "self.provider != 'prometheus' || has(self.prometheusURL)",
            "analysis.prometheusURL is required with provider prometheus",
            lambda a: a.provider != "prometheus" or a.prometheus_url is not None,
        ),
    )

    provider: Literal["router", "prometheus"] = Field(
        default="router",
        description="`router`: the router pods' own metrics (no Prometheus needed); "
        "`prometheus`: PromQL over a Prometheus HTTP API that scrapes the routers.",
    )
    prometheus_url: str | None = Field(
        default=None,
        alias="prometheusURL",
        max_length=2048,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="Base URL of the Prometheus HTTP API, e.g. `http://prometheus.monitoring:9090`.",
    )
    interval_seconds: int = Field(default=30, ge=5, le=3600, description="Seconds between measurements.")
    samples: int = Field(default=1, ge=1, le=100, description="Passing measurements needed for the step to pass.")
    min_requests: int = Field(
        default=50,
        ge=1,
        le=1000000,
        description="Requests the candidate must have served in a window before any verdict.",
    )
    inconclusive_limit: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Inconclusive measurements in a row (no data, too few requests) after which the analysis fails.",
    )
    max_error_rate: float | None = Field(
        default=None, ge=0, le=100, description="Highest error rate of the candidate, in percent of its requests."
    )
    max_error_rate_increase: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Most the candidate's error rate may exceed stable's, in percent points.",
    )
    max_p95_latency_ms: int | None = Field(default=None, ge=1, le=600000, description="Highest p95 latency (ms).")
    max_p95_latency_ratio: float | None = Field(
        default=None, ge=1, le=100, description="Highest ratio of the candidate's p95 latency to stable's."
    )
    min_solver_success_rate: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Lowest share of the candidate's solver answers (tier 1-2) with a verdict, in percent.",
    )
    max_tier_shift: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Most the candidate's share of any tier may differ from stable's, in percent points.",
    )
    max_cost_per_request_usd: float | None = Field(
        default=None, ge=0, le=1000, description="Highest mean cost per candidate request, in USD."
    )
    min_agreement: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Lowest agreement of the candidate's verdicts with stable's on mirrored requests, in percent "
        "(needs `spec.traffic.mirror` to the candidate).",
    )


class Step(ApiModel):
    """One canary step: exactly one of setWeight, pause or analysis."""

    cel_rules = (
        Rule(
            "[has(self.setWeight), has(self.pause), has(self.analysis)].filter(x, x).size() == 1",
            "a step sets exactly one of setWeight, pause or analysis",
            lambda s: _one_of(s.set_weight, s.pause, s.analysis),
        ),
    )

    set_weight: int | None = Field(default=None, ge=0, le=100, description="Send this percent to the candidate.")
    pause: Pause | None = Field(default=None, description="Wait for a duration, or until promoted.")
    analysis: Analysis | None = Field(default=None, description="Measure and judge before going on.")


class Strategy(ApiModel):
    """How a candidate is rolled out."""

    cel_rules = (
        Rule(
            "self.type != 'Canary' || (has(self.steps) && size(self.steps) > 0)",
            "strategy type Canary needs steps",
            lambda s: s.type != "Canary" or bool(s.steps),
        ),
        Rule(
            "self.type == 'Canary' || !has(self.steps) || size(self.steps) == 0",
            "steps are only used with strategy type Canary",
            lambda s: s.type == "Canary" or not s.steps,
        ),
        Rule(
            "self.type != 'ABTest' || has(self.analysis)",
            "strategy type ABTest needs analysis",
            lambda s: s.type != "ABTest" or s.analysis is not None,
        ),
        Rule(
            "!(self.promote && self.abort)",
            "set promote or abort, not both",
            lambda s: not (s.promote and s.abort),
        ),
    )

    type: Literal["RollingUpdate", "Canary", "ABTest"] = Field(
        default="RollingUpdate", description="`RollingUpdate`, `Canary` (steps) or `ABTest` (weights held, analysis)."
    )
    steps: list[Step] = Field(default_factory=list, max_length=32, description="Canary steps, in order.")
    analysis: Analysis | None = Field(default=None, description="The analysis an ABTest runs at its interval.")
    progress_deadline_seconds: int = Field(
        default=600,
        ge=30,
        le=86400,
        description="A step that makes no progress for this long (pauses without a duration aside) stalls the "
        "rollout (`ProgressDeadlineExceeded`).",
    )
    promote: bool = Field(default=False, description="Skip the remaining steps and promote the candidate.")
    abort: bool = Field(default=False, description="Roll back: the candidate's weight to 0 until the spec changes.")
    paused: bool = Field(default=False, description="Hold the rollout at its current step.")


# -- status -------------------------------------------------------------------------------------


class CheckStatus(ApiModel):
    """One check of one measurement."""

    name: str = Field(description="The check, e.g. `errorRate`.")
    value: float | None = Field(default=None, description="What was measured (unset: no data).")
    threshold: float | None = Field(default=None, description="The limit it was held to.")
    verdict: str = Field(description="`Passed`, `Failed` or `Inconclusive`.")
    message: str = Field(default="", description="The check in words.")


class AnalysisRunStatus(ApiModel):
    """One measurement and its verdict."""

    time: str = Field(description="When it was taken (RFC 3339).")
    verdict: str = Field(description="`Passed`, `Failed` or `Inconclusive`.")
    message: str = Field(default="", description="The verdict in words, with the measured values.")
    checks: list[CheckStatus] = Field(default_factory=list, description="Every check.")


class RolloutStatus(ApiModel):
    """Where the rollout stands: the operator resumes from here after a restart."""

    phase: Literal["Idle", "Progressing", "Paused", "Promoting", "Completed", "RolledBack", "Stalled"] = Field(
        description="The rollout's phase."
    )
    revision: str = Field(default="", description="The candidate's program hash being rolled out.")
    step: int = Field(default=0, description="Index of the current step (the number of steps: promoting).")
    step_started_at: str = Field(default="", description="When the current step started (RFC 3339).")
    candidate_weight: int = Field(default=0, description="The candidate's weight now.")
    passed: int = Field(default=0, description="Passing measurements in a row at this step.")
    inconclusive: int = Field(default=0, description="Inconclusive measurements in a row at this step.")
    last_analysis_at: str = Field(default="", description="When the last measurement was taken.")
    analysis: list[AnalysisRunStatus] = Field(default_factory=list, description="The last measurements (at most 5).")
    promoted_revision: str = Field(default="", description="The revision the stable variant runs by promotion.")
    aborted_generation: int = Field(default=0, description="The generation a rollback happened at.")
    message: str = Field(default="", description="What the rollout waits for, or why it stopped.")
