"""The rollout's state as ``status.rollout`` holds it: the operator's memory across restarts.

Everything the next decision needs is here (phase, step, when the step started, the analysis
counters and the last results), so an operator restarted mid-rollout resumes at the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

Phase = Literal["Idle", "Progressing", "Paused", "Promoting", "Completed", "RolledBack", "Stalled"]
HISTORY = 5  # analysis results kept in status


@dataclass(frozen=True)
class AnalysisRecord:
    """One measurement and its verdict, as shown in status."""

    time: str
    verdict: str
    message: str
    checks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class RolloutState:
    phase: Phase = "Idle"
    revision: str = ""  # the candidate's program hash this rollout is about
    step: int = 0  # index of the current step (== number of steps: promotion)
    step_started: str = ""  # RFC 3339
    weight: int = 0  # the candidate's current weight
    passed: int = 0  # passing measurements in a row at this step
    inconclusive: int = 0  # inconclusive measurements in a row at this step
    last_analysis: str = ""  # when the last measurement was taken
    analysis: tuple[AnalysisRecord, ...] = ()
    promoted: str = ""  # the revision the stable variant runs by promotion
    aborted_generation: int = 0  # the generation an abort or a failed analysis happened at
    message: str = ""

    def at_step(self, step: int, now: str) -> RolloutState:
        return replace(self, step=step, step_started=now, passed=0, inconclusive=0, last_analysis="")

    def with_record(self, record: AnalysisRecord) -> RolloutState:
        return replace(self, analysis=(*self.analysis, record)[-HISTORY:], last_analysis=record.time)

    def to_status(self) -> dict[str, Any]:
        out = {
            "phase": self.phase,
            "revision": self.revision,
            "step": self.step,
            "stepStartedAt": self.step_started,
            "candidateWeight": self.weight,
            "passed": self.passed,
            "inconclusive": self.inconclusive,
            "lastAnalysisAt": self.last_analysis,
            "analysis": [{**asdict(r), "checks": list(r.checks)} for r in self.analysis],
            "promotedRevision": self.promoted,
            "abortedGeneration": self.aborted_generation,
            "message": self.message,
        }
        return {k: v for k, v in out.items() if v not in ("", None)}


def from_status(status: Mapping[str, Any] | None) -> RolloutState:
    """The state ``status.rollout`` holds (the defaults for an empty or missing one)."""
    s = status or {}
    records = tuple(
        AnalysisRecord(str(r.get("time", "")), str(r.get("verdict", "")), str(r.get("message", "")),
                       tuple(r.get("checks") or ()))
        for r in s.get("analysis") or []
    )  # fmt: skip
    phase = s.get("phase", "Idle")
    return RolloutState(
        phase=phase if phase in Phase.__args__ else "Idle",  # type: ignore[attr-defined]
        revision=str(s.get("revision", "")),
        step=int(s.get("step", 0)),
        step_started=str(s.get("stepStartedAt", "")),
        weight=int(s.get("candidateWeight", 0)),
        passed=int(s.get("passed", 0)),
        inconclusive=int(s.get("inconclusive", 0)),
        last_analysis=str(s.get("lastAnalysisAt", "")),
        analysis=records,
        promoted=str(s.get("promotedRevision", "")),
        aborted_generation=int(s.get("abortedGeneration", 0)),
        message=str(s.get("message", "")),
    )


def seconds_between(earlier: str, later: str) -> float:
    """Seconds from ``earlier`` to ``later`` (RFC 3339); a missing time counts as long ago."""
    if not earlier:
        return float("inf")
    return (_parse(later) - _parse(earlier)).total_seconds()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


__all__ = ["HISTORY", "AnalysisRecord", "Phase", "RolloutState", "from_status", "seconds_between"]
