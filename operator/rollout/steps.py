"""Pure: the next rollout action from (strategy, state, observed, now[, a fresh measurement]).

The controller calls :func:`next_action` on every visit; when the decision says ``measure``, it
measures (analysis sources), judges, and calls again with the judgement. Nothing here does I/O
or reads a clock, so every transition has a table test (tests/operator/test_rollout_steps.py).

A Canary walks its steps; after the last one it promotes: the candidate takes all the traffic
(once it has the capacity), the stable variant rolls to the candidate's programs, and only when
stable has rolled out does traffic return to it and the candidate scale down. An ABTest holds the
declared weights and measures at its interval. A failed analysis or an abort sets the
candidate's weight to 0 at once and stalls (``RolloutAborted``) until the spec changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from evolved_operator.api_strategy import Analysis, Step, Strategy, duration_seconds
from evolved_operator.rollout.state import AnalysisRecord, RolloutState, seconds_between

Event = tuple[str, str, str]  # (type, reason, message)
WAIT_SECONDS = 2.0  # requeue while waiting on pods (their watch events also wake the controller)


class Judgement(Protocol):
    """What a judged measurement offers (``evolved_operator.analysis.judge``)."""

    @property
    def verdict(self) -> str: ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class Observed:
    """What the decision needs from the cluster and the spec."""

    generation: int
    stable: str  # the stable variant's name
    candidate: str  # the candidate's name
    stable_revision: str  # program hash the stable variant declares
    candidate_revision: str  # program hash the candidate declares
    stable_running: str  # program hash the stable Deployment runs, "" when not rolled out
    stable_replicas: int  # pods the stable variant has (ready)
    candidate_ready: int  # ready pods of the candidate
    declared: dict[str, int]  # the declared weights (spec)


@dataclass(frozen=True)
class Decision:
    state: RolloutState
    weights: dict[str, int]  # the effective weights
    stable_from_candidate: bool = False  # the stable variant renders the candidate's programs
    candidate_replicas: int | None = None  # at least this many candidate pods (None: as declared)
    measure: bool = False  # measure now and call again with the judgement
    requeue_after: float | None = None
    events: list[Event] = field(default_factory=list)
    stall: tuple[str, str] | None = None  # (reason, message): Stalled=True
    hold: bool = False  # apply nothing: what would be rendered could undo a promotion


def _weights(o: Observed, candidate: int) -> dict[str, int]:
    return {
        name: (candidate if name == o.candidate else 100 - candidate if name == o.stable else 0) for name in o.declared
    }


def capacity(o: Observed, weight: int) -> int:
    """Candidate pods needed before it takes ``weight`` percent: its share of stable's pods, at least one."""
    return max(1, math.ceil(max(1, o.stable_replicas) * weight / 100))


def next_action(
    strategy: Strategy, state: RolloutState, o: Observed, now: str, judged: Judgement | None = None
) -> Decision:
    if strategy.type == "RollingUpdate":
        return Decision(RolloutState(), dict(o.declared))
    if o.candidate_revision == o.stable_revision:
        return _idle(state, o)
    if state.phase == "Completed" and state.revision == o.candidate_revision:
        return _completed(state, o)
    if state.revision != o.candidate_revision:
        if state.promoted and state.promoted != o.stable_revision:
            return _promotion_not_recorded(state, o)
        started = RolloutState(phase="Progressing", revision=o.candidate_revision, step_started=now)
        decision = _continue(strategy, started, o, now, None)
        note = (
            "Normal",
            "RolloutStarted",
            f"rolling out {o.candidate} programs {o.candidate_revision} ({strategy.type})",
        )
        return replace(decision, events=[note, *decision.events])
    if state.phase == "RolledBack":
        if strategy.abort or state.aborted_generation == o.generation:
            return _rolled_back(state, o)
        restarted = RolloutState(phase="Progressing", revision=o.candidate_revision, step_started=now)
        decision = _continue(strategy, restarted, o, now, None)
        note = ("Normal", "RolloutStarted", f"the spec changed after a rollback: rolling out {o.candidate} again")
        return replace(decision, events=[note, *decision.events])
    if strategy.abort:
        return _roll_back(state, o, "Aborted", "spec.strategy.abort is set", o.generation)
    return _continue(strategy, state, o, now, judged)


def _idle(state: RolloutState, o: Observed) -> Decision:
    """Nothing to roll out: both variants declare the same programs (Git caught up with a promotion)."""
    return Decision(
        RolloutState(phase="Idle", message="the candidate runs the stable variant's programs"), dict(o.declared)
    )


def _completed(state: RolloutState, o: Observed) -> Decision:
    message = f"promoted {o.candidate} programs {state.revision}; make it permanent: declare them for {o.stable} in Git"
    return Decision(replace(state, message=message), _weights(o, 0), stable_from_candidate=True, candidate_replicas=0)


def _promotion_not_recorded(state: RolloutState, o: Observed) -> Decision:
    message = (
        f"{o.stable} runs the promoted programs {state.promoted} but declares {o.stable_revision}: declare the "
        f"promoted programs for {o.stable} in Git before rolling out new candidate programs {o.candidate_revision}"
    )
    return Decision(
        replace(state, message=message),
        _weights(o, 0),
        stable_from_candidate=False,
        stall=("PromotionNotRecorded", message),
    )


def _rolled_back(state: RolloutState, o: Observed) -> Decision:
    return Decision(state, _weights(o, 0), stall=("RolloutAborted", state.message))


def _roll_back(state: RolloutState, o: Observed, reason: str, why: str, generation: int) -> Decision:
    message = f"rolled back {o.candidate} programs {state.revision}: {why}; weight 0 until the spec changes"
    rolled = replace(state, phase="RolledBack", weight=0, message=message, aborted_generation=generation)
    return Decision(
        rolled,
        _weights(o, 0),
        events=[("Warning", reason, why), ("Warning", "RolledBack", message)],
        stall=("RolloutAborted", message),
    )


def _continue(strategy: Strategy, state: RolloutState, o: Observed, now: str, judged: Judgement | None) -> Decision:
    if strategy.type == "ABTest":
        return _ab_test(strategy, state, o, now, judged)
    if strategy.promote and state.step < len(strategy.steps):
        state = state.at_step(len(strategy.steps), now)
    if state.step >= len(strategy.steps):
        return _promote(strategy, state, o, now)
    if strategy.paused:
        paused = replace(state, phase="Paused", message=f"paused at step {state.step} (spec.strategy.paused)")
        events = [] if state.phase == "Paused" else [("Normal", "Paused", paused.message)]
        return Decision(paused, _weights(o, state.weight), events=events)
    step = strategy.steps[state.step]
    untimed_pause = step.pause is not None and step.pause.duration is None
    if state.phase == "Paused" and not untimed_pause:  # spec.strategy.paused was cleared
        resumed = _step(strategy, replace(state, phase="Progressing"), o, now, step, judged)
        return replace(resumed, events=[("Normal", "Resumed", f"resumed at step {state.step}"), *resumed.events])
    return _step(strategy, state, o, now, step, judged)


def _step(
    strategy: Strategy, state: RolloutState, o: Observed, now: str, step: Step, judged: Judgement | None
) -> Decision:
    if step.set_weight is not None:
        return _set_weight(strategy, state, o, now, step.set_weight)
    if step.pause is not None:
        return _pause(strategy, state, o, now, step)
    assert step.analysis is not None  # the CRD makes a step exactly one of the three
    return _analysis_step(strategy, state, o, now, step.analysis, judged)


def _advance(strategy: Strategy, state: RolloutState, o: Observed, now: str, why: str) -> Decision:
    """Go to the next step and decide again at once (a pause of 0s or a reached weight costs no visit)."""
    nxt = state.at_step(state.step + 1, now)
    decision = _continue(strategy, replace(nxt, phase="Progressing"), o, now, None)
    return replace(decision, events=[("Normal", "StepAdvanced", why), *decision.events])


def _stalled_by_deadline(strategy: Strategy, state: RolloutState, now: str, waiting_for: str) -> tuple[str, str] | None:
    if seconds_between(state.step_started, now) > strategy.progress_deadline_seconds:
        return (
            "ProgressDeadlineExceeded",
            f"step {state.step} made no progress for {strategy.progress_deadline_seconds}s: {waiting_for}",
        )
    return None


def _set_weight(strategy: Strategy, state: RolloutState, o: Observed, now: str, weight: int) -> Decision:
    needed = capacity(o, weight) if weight > 0 else 0
    if o.candidate_ready < needed:
        waiting = f"{o.candidate} has {o.candidate_ready} ready pod(s), {needed} needed for weight {weight}"
        stall = _stalled_by_deadline(strategy, state, now, waiting)
        held = replace(state, phase="Stalled" if stall else "Progressing", message=waiting)
        return Decision(
            held, _weights(o, state.weight), candidate_replicas=needed, requeue_after=WAIT_SECONDS, stall=stall
        )
    moved = replace(state, weight=weight)
    return _advance(strategy, moved, o, now, f"step {state.step}: {o.candidate} weight {state.weight} -> {weight}")


def _pause(strategy: Strategy, state: RolloutState, o: Observed, now: str, step: Step) -> Decision:
    assert step.pause is not None
    replicas = capacity(o, state.weight) if state.weight else None
    if step.pause.duration is None:
        paused = replace(state, phase="Paused", message=f"paused at step {state.step} until promoted")
        events = [] if state.phase == "Paused" else [("Normal", "Paused", paused.message)]
        return Decision(paused, _weights(o, state.weight), candidate_replicas=replicas, events=events)
    left = duration_seconds(step.pause.duration) - seconds_between(state.step_started, now)
    if left > 0:
        waiting = replace(state, message=f"step {state.step}: pausing {step.pause.duration}")
        return Decision(waiting, _weights(o, state.weight), candidate_replicas=replicas, requeue_after=left)
    return _advance(strategy, state, o, now, f"step {state.step}: paused {step.pause.duration}")


def _record(state: RolloutState, judged: Judgement, now: str) -> RolloutState:
    checks = tuple(_check(c) for c in getattr(judged, "checks", ()))
    return state.with_record(AnalysisRecord(now, judged.verdict, judged.message, checks))


def _check(check: Any) -> dict[str, Any]:
    """A check as ``status.rollout.analysis[].checks[]`` holds it (numbers stay numbers; NaN is no value)."""
    out: dict[str, Any] = {"name": str(getattr(check, "name", "")), "verdict": str(getattr(check, "verdict", ""))}
    for key in ("value", "threshold"):
        value = getattr(check, key, None)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[key] = float(value)
    out["message"] = str(getattr(check, "message", ""))
    return out


def _measure_or_judge(
    settings: Analysis, state: RolloutState, o: Observed, now: str, judged: Judgement | None
) -> tuple[RolloutState, str | None, Decision | None]:
    """(state, outcome, a decision to return as is). ``outcome`` is Passed, Failed or None (wait)."""
    if judged is None:
        due = seconds_between(state.last_analysis or state.step_started, now) >= settings.interval_seconds
        if not due:
            left = settings.interval_seconds - seconds_between(state.last_analysis or state.step_started, now)
            return state, None, Decision(state, _weights(o, state.weight), requeue_after=max(0.5, left))
        return state, None, Decision(state, _weights(o, state.weight), measure=True)
    state = _record(state, judged, now)
    if judged.verdict == "Failed":
        return state, "Failed", None
    if judged.verdict == "Passed":
        state = replace(state, passed=state.passed + 1, inconclusive=0)
        return state, ("Passed" if state.passed >= settings.samples else None), None
    state = replace(state, inconclusive=state.inconclusive + 1)
    if state.inconclusive >= settings.inconclusive_limit:
        return state, "Failed", None
    return state, None, None


def _analysis_events(judged: Judgement | None) -> list[Event]:
    if judged is None:
        return []
    kind = {"Passed": "Normal", "Inconclusive": "Warning", "Failed": "Warning"}.get(judged.verdict, "Normal")
    return [(kind, f"Analysis{judged.verdict}", judged.message)]


def _analysis_message(state: RolloutState, settings: Analysis) -> RolloutState:
    """What an analysis step waits for (``status.rollout.message``, Ready's and Reconciling's)."""
    message = (
        f"step {state.step}: analysis every {settings.interval_seconds}s: {state.passed}/{settings.samples} passed, "
        f"{state.inconclusive} inconclusive in a row (fails at {settings.inconclusive_limit})"
    )
    return replace(state, message=message)


def _analysis_step(
    strategy: Strategy, state: RolloutState, o: Observed, now: str, settings: Analysis, judged: Judgement | None
) -> Decision:
    state, outcome, early = _measure_or_judge(settings, state, o, now, judged)
    if early is not None:
        return replace(early, state=_analysis_message(early.state, settings))
    events = _analysis_events(judged)
    if outcome == "Failed":
        why = _failure(state, settings, judged)
        decision = _roll_back(state, o, "AnalysisFailed", why, o.generation)
        return replace(decision, events=[e for e in events if e[1] != "AnalysisFailed"] + decision.events)
    if outcome == "Passed":
        decision = _advance(strategy, state, o, now, f"step {state.step}: analysis passed")
        return replace(decision, events=events + decision.events)
    replicas = capacity(o, state.weight) if state.weight else None
    return Decision(
        _analysis_message(state, settings),
        _weights(o, state.weight),
        candidate_replicas=replicas,
        requeue_after=settings.interval_seconds,
        events=events,
    )


def _failure(state: RolloutState, settings: Analysis, judged: Judgement | None) -> str:
    if judged is not None and judged.verdict == "Failed":
        return f"analysis failed: {judged.message}"
    return f"analysis inconclusive {state.inconclusive} times in a row (limit {settings.inconclusive_limit})"


def _ab_test(strategy: Strategy, state: RolloutState, o: Observed, now: str, judged: Judgement | None) -> Decision:
    assert strategy.analysis is not None  # the CRD requires it for ABTest
    weight = o.declared.get(o.candidate, 0)
    state = replace(
        state, weight=weight, phase="Progressing", message="A/B test: declared weights held, analysis running"
    )
    state, outcome, early = _measure_or_judge(strategy.analysis, state, o, now, judged)
    if early is not None:
        return replace(early, weights=dict(o.declared))
    events = _analysis_events(judged)
    if outcome == "Failed":
        decision = _roll_back(state, o, "AnalysisFailed", _failure(state, strategy.analysis, judged), o.generation)
        return replace(decision, events=[e for e in events if e[1] != "AnalysisFailed"] + decision.events)
    if strategy.promote:
        return _promote(strategy, state, o, now)
    if outcome == "Passed":
        state = replace(state, passed=0)  # an A/B test keeps measuring; each pass is reported
    return Decision(state, dict(o.declared), requeue_after=strategy.analysis.interval_seconds, events=events)


def _promote(strategy: Strategy, state: RolloutState, o: Observed, now: str) -> Decision:
    """All traffic to the candidate (once it can take it), the stable variant rolls to the
    candidate's programs, then traffic returns to stable and the candidate scales down."""
    events: list[Event] = []
    if state.phase != "Promoting":
        events.append(("Normal", "Promoting", f"stable {o.stable} takes {o.candidate} programs {o.candidate_revision}"))
        state = replace(state, phase="Promoting", step_started=now, promoted=o.candidate_revision)
    needed = max(1, o.stable_replicas)
    if o.candidate_ready < needed and state.weight < 100:
        waiting = f"{o.candidate} has {o.candidate_ready} ready pod(s), {needed} needed to carry all traffic"
        stall = _stalled_by_deadline(strategy, state, now, waiting)
        held = replace(state, message=waiting)
        return Decision(held, _weights(o, state.weight), candidate_replicas=needed, requeue_after=WAIT_SECONDS,
                        events=events, stall=stall)  # fmt: skip
    state = replace(state, weight=100)
    if o.stable_running != o.candidate_revision:
        waiting = f"{o.stable} rolling to {o.candidate} programs {o.candidate_revision}; traffic on {o.candidate}"
        stall = _stalled_by_deadline(strategy, state, now, waiting)
        held = replace(state, message=waiting)
        return Decision(held, _weights(o, 100), stable_from_candidate=True, candidate_replicas=needed,
                        requeue_after=WAIT_SECONDS, events=events, stall=stall)  # fmt: skip
    done = replace(state, phase="Completed", weight=0, message="")
    decision = _completed(done, o)
    message = f"{o.stable} runs {o.candidate} programs {o.candidate_revision}; traffic back on {o.stable}"
    return replace(decision, events=[*events, ("Normal", "Promoted", message)])
