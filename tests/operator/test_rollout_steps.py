"""The rollout step machine: a table of named transitions, each from (strategy, state, observed, now)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from evolved_operator.api_strategy import Strategy, duration_seconds
from evolved_operator.rollout import Observed, RolloutState, from_status, next_action

T0 = "2026-12-06T12:00:00Z"
T10 = "2026-12-06T12:00:10Z"
T31 = "2026-12-06T12:00:31Z"
T_LATE = "2026-12-06T12:20:00Z"


@dataclass(frozen=True)
class Judged:
    verdict: str
    message: str = "measured"
    checks: tuple[Any, ...] = ()


def strategy(*steps: dict[str, Any], **extra: Any) -> Strategy:
    return Strategy.model_validate({"type": "Canary", "steps": list(steps), **extra})


CANARY = strategy(
    {"setWeight": 10}, {"pause": {"duration": "30s"}}, {"analysis": {"intervalSeconds": 30, "maxErrorRate": 5}},
    {"setWeight": 50}, {"pause": {}},
)  # fmt: skip
OBSERVED = Observed(
    generation=3, stable="stable", candidate="canary", stable_revision="aaa", candidate_revision="bbb",
    stable_running="aaa", stable_replicas=4, candidate_ready=1, declared={"stable": 100, "canary": 0},
)  # fmt: skip


def at(step: int, weight: int = 0, **kw: Any) -> RolloutState:
    return RolloutState(phase="Progressing", revision="bbb", step=step, step_started=T0, weight=weight, **kw)


def test_rolling_update_keeps_the_declared_weights_and_no_rollout_state() -> None:
    d = next_action(Strategy(), RolloutState(), OBSERVED, T0)
    assert (d.state, d.weights, d.events) == (RolloutState(), {"stable": 100, "canary": 0}, [])


def test_same_programs_on_both_variants_is_idle() -> None:
    d = next_action(CANARY, at(2), replace(OBSERVED, candidate_revision="aaa"), T0)
    assert d.state.phase == "Idle"
    assert d.weights == {"stable": 100, "canary": 0}


def test_new_candidate_programs_start_a_rollout_and_the_first_step_moves_the_weight() -> None:
    d = next_action(CANARY, RolloutState(), OBSERVED, T0)
    assert [e[1] for e in d.events] == ["RolloutStarted", "StepAdvanced"]
    assert (d.state.phase, d.state.step, d.state.weight, d.state.revision) == ("Progressing", 1, 10, "bbb")
    assert d.weights == {"stable": 90, "canary": 10}
    assert d.requeue_after == 30  # the pause of step 1


def test_weight_waits_for_candidate_capacity() -> None:
    d = next_action(CANARY, at(3, 10), replace(OBSERVED, candidate_ready=1), T10)  # 50% of 4 pods: 2 needed
    assert (d.state.step, d.weights["canary"], d.candidate_replicas) == (3, 10, 2)
    assert d.requeue_after is not None
    assert "2 needed for weight 50" in d.state.message
    assert d.stall is None


def test_waiting_for_capacity_past_the_deadline_stalls() -> None:
    d = next_action(CANARY, at(3, 10), replace(OBSERVED, candidate_ready=0), T_LATE)
    assert d.stall is not None
    assert d.stall[0] == "ProgressDeadlineExceeded"
    assert d.weights["canary"] == 10, "a stall holds the weights where they were"


PAUSES = {
    "a timed pause waits for its time": (at(1, 10), T10, 1, 20.0),
    "a timed pause that is over advances to the next step": (at(1, 10), T31, 2, None),
}


@pytest.mark.parametrize(("state", "now", "step", "requeue"), list(PAUSES.values()), ids=list(PAUSES))
def test_timed_pauses(state: RolloutState, now: str, step: int, requeue: float | None) -> None:
    d = next_action(CANARY, state, OBSERVED, now)
    assert d.state.step == step
    if requeue is not None:
        assert d.requeue_after == requeue


def test_a_pause_without_duration_waits_until_promoted() -> None:
    d = next_action(CANARY, at(4, 50), replace(OBSERVED, candidate_ready=2), T_LATE)
    assert (d.state.phase, d.stall, d.requeue_after) == ("Paused", None, None)
    assert [e[1] for e in d.events] == ["Paused"]
    again = next_action(CANARY, d.state, replace(OBSERVED, candidate_ready=2), T_LATE)
    assert again.events == [], "a pause is announced once"


ANALYSIS = {
    "not due yet: wait for the interval": (at(2, 10, last_analysis=T10), None, T31, "wait"),
    "due: the controller must measure": (at(2, 10), None, T31, "measure"),
    "passed: next step": (at(2, 10), Judged("Passed"), T31, "advance"),
    "failed: rolled back at once": (at(2, 10), Judged("Failed", "error rate 20.0% > 5.0%"), T31, "rollback"),
    "inconclusive once: wait and measure again": (at(2, 10), Judged("Inconclusive"), T31, "wait"),
    "inconclusive at the limit: fails": (at(2, 10, inconclusive=2), Judged("Inconclusive"), T31, "rollback"),
}  # fmt: skip


@pytest.mark.parametrize(("state", "judged", "now", "outcome"), list(ANALYSIS.values()), ids=list(ANALYSIS))
def test_analysis_steps(state: RolloutState, judged: Judged | None, now: str, outcome: str) -> None:
    d = next_action(CANARY, state, replace(OBSERVED, candidate_ready=2), now, judged)
    if outcome == "measure":
        assert d.measure
    elif outcome == "wait":
        assert (d.measure, d.state.step, d.state.phase) == (False, 2, "Progressing")
    elif outcome == "advance":
        assert d.state.step >= 3
        assert [e[1] for e in d.events][:2] == ["AnalysisPassed", "StepAdvanced"]
    else:
        assert d.state.phase == "RolledBack"
        assert d.weights == {"stable": 100, "canary": 0}
        assert d.stall is not None
        assert d.stall[0] == "RolloutAborted"
        assert {"AnalysisFailed", "RolledBack"} <= {e[1] for e in d.events}
    if judged is not None:
        assert d.state.analysis[-1].verdict == judged.verdict


def test_the_measured_values_of_a_failure_are_in_status_and_the_message() -> None:
    d = next_action(CANARY, at(2, 10), OBSERVED, T31, Judged("Failed", "error rate 20.0% > 5.0%"))
    assert "error rate 20.0% > 5.0%" in d.state.message
    assert from_status(d.state.to_status()).analysis[-1].message == "error rate 20.0% > 5.0%"


def test_a_rollback_holds_until_the_spec_changes_then_restarts() -> None:
    rolled = next_action(CANARY, at(2, 10), OBSERVED, T31, Judged("Failed")).state
    same = next_action(CANARY, rolled, OBSERVED, T_LATE)
    assert (same.state.phase, same.weights["canary"], same.events) == ("RolledBack", 0, [])
    changed = next_action(CANARY, rolled, replace(OBSERVED, generation=4), T_LATE)
    assert changed.state.phase == "Progressing"
    assert changed.events[0][1] == "RolloutStarted"


def test_abort_rolls_back_and_stays_while_set() -> None:
    aborting = CANARY.model_copy(update={"abort": True})
    d = next_action(aborting, at(3, 10), OBSERVED, T10)
    assert (d.state.phase, d.weights["canary"]) == ("RolledBack", 0)
    assert [e[1] for e in d.events] == ["Aborted", "RolledBack"]
    later = next_action(aborting, d.state, replace(OBSERVED, generation=9), T_LATE)
    assert later.state.phase == "RolledBack", "abort is declarative: it holds while set"


def test_paused_holds_the_current_step() -> None:
    d = next_action(CANARY.model_copy(update={"paused": True}), at(1, 10), OBSERVED, T_LATE)
    assert (d.state.phase, d.state.step, d.weights["canary"]) == ("Paused", 1, 10)
    resumed = next_action(CANARY, d.state, OBSERVED, T_LATE)
    assert resumed.state.phase != "Paused"
    assert resumed.events[0][1] == "Resumed"


def test_resumed_at_an_analysis_step_the_message_says_what_the_step_waits_for() -> None:
    """Found running docs/rollouts.md's commands: after `kubectl evolved resume` at an analysis step,
    status.rollout.message (and Ready's and Reconciling's) kept saying "paused at step 2"."""
    paused = next_action(CANARY.model_copy(update={"paused": True}), at(2, 10), OBSERVED, T10).state
    assert "paused" in paused.message
    for judged in (None, Judged("Inconclusive")):
        resumed = next_action(CANARY, paused, replace(OBSERVED, candidate_ready=2), T31, judged)
        assert resumed.state.phase == "Progressing"
        assert "paused" not in resumed.state.message
        assert resumed.state.message.startswith("step 2: analysis"), resumed.state.message


def test_an_analysis_step_message_counts_its_measurements() -> None:
    d = next_action(CANARY, at(2, 10), replace(OBSERVED, candidate_ready=2), T31, Judged("Inconclusive"))
    expected = "step 2: analysis every 30s: 0/1 passed, 1 inconclusive in a row (fails at 3)"
    assert d.state.message == expected, d.state.message


PROMOTION = {
    "promote skips the steps; all traffic waits for candidate capacity": (
        replace(OBSERVED, candidate_ready=1), "Promoting", {"stable": 100 - 10, "canary": 10}, False,
    ),
    "with capacity, traffic moves to the candidate and stable rolls": (
        replace(OBSERVED, candidate_ready=4), "Promoting", {"stable": 0, "canary": 100}, True,
    ),
    "stable rolled to the candidate's programs: traffic back, candidate down": (
        replace(OBSERVED, candidate_ready=4, stable_running="bbb"), "Completed", {"stable": 100, "canary": 0}, True,
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("observed", "phase", "weights", "stable_rolls"), list(PROMOTION.values()), ids=list(PROMOTION)
)
def test_promotion(observed: Observed, phase: str, weights: dict[str, int], stable_rolls: bool) -> None:
    d = next_action(CANARY.model_copy(update={"promote": True}), at(1, 10), observed, T10)
    assert (d.state.phase, d.weights, d.stable_from_candidate) == (phase, weights, stable_rolls)
    assert d.state.promoted == "bbb"
    if phase == "Completed":
        assert d.candidate_replicas == 0
        assert [e[1] for e in d.events] == ["Promoting", "Promoted"]


def test_a_completed_promotion_stays_and_asks_for_git_to_catch_up() -> None:
    done = RolloutState(phase="Completed", revision="bbb", promoted="bbb", step=5)
    d = next_action(CANARY, done, replace(OBSERVED, stable_running="bbb"), T_LATE)
    assert (d.state.phase, d.stable_from_candidate, d.weights["stable"]) == ("Completed", True, 100)
    assert "declare them for stable in Git" in d.state.message
    caught_up = next_action(CANARY, done, replace(OBSERVED, stable_revision="bbb"), T_LATE)
    assert caught_up.state.phase == "Idle"


def test_new_candidate_programs_before_git_recorded_the_promotion_stall() -> None:
    done = RolloutState(phase="Completed", revision="bbb", promoted="bbb")
    d = next_action(CANARY, done, replace(OBSERVED, candidate_revision="ccc"), T_LATE)
    assert d.stall is not None
    assert d.stall[0] == "PromotionNotRecorded"


def test_an_ab_test_holds_the_declared_weights_and_rolls_back_on_failure() -> None:
    ab = Strategy.model_validate({"type": "ABTest", "analysis": {"intervalSeconds": 30, "maxErrorRate": 5}})
    declared = replace(OBSERVED, declared={"stable": 80, "canary": 20}, candidate_ready=1)
    start = next_action(ab, RolloutState(), declared, T0)
    assert start.weights == {"stable": 80, "canary": 20}
    measure = next_action(ab, start.state, declared, T31)
    assert measure.measure
    passed = next_action(ab, start.state, declared, T31, Judged("Passed"))
    assert (passed.state.phase, passed.weights) == ("Progressing", {"stable": 80, "canary": 20})
    failed = next_action(ab, start.state, declared, T31, Judged("Failed"))
    assert (failed.state.phase, failed.weights) == ("RolledBack", {"stable": 100, "canary": 0})


def test_the_state_survives_a_round_trip_through_status() -> None:
    """An operator restarted mid-rollout reads the same state back: same step, repeating none."""
    d = next_action(CANARY, at(2, 10), OBSERVED, T31, Judged("Inconclusive"))
    assert from_status(d.state.to_status()) == d.state


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400), ("1h2m3s", 3723)])
def test_durations(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds
