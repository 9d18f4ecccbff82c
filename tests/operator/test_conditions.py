"""Pure condition policies: kstatus-compatible Ready / Reconciling / Stalled."""

from __future__ import annotations

from evolved_operator import conditions
from evolved_operator.conditions import Observation, VariantObservation
from evolved_operator.problems import Problem
from evolved_operator.status import transition_events, update

DONE = VariantObservation("stable", desired_replicas=2, replicas=2, ready=2, updated=2, available=2, current=True)


def verdicts(**kw: object) -> dict[str, conditions.Verdict]:
    return conditions.compute(Observation(generation=3, **kw))  # type: ignore[arg-type]


def test_ready_when_every_variant_has_rolled_out() -> None:
    v = verdicts(variants=[DONE])
    assert [v[k][0] for k in ("Ready", "Reconciling", "Stalled")] == ["True", "False", "False"]


def test_reconciling_while_pods_are_updating() -> None:
    rolling = VariantObservation(
        "stable", desired_replicas=2, replicas=3, ready=2, updated=1, available=2, current=True
    )
    v = verdicts(variants=[rolling])
    assert v["Reconciling"][:2] == ("True", "RollingOut")
    assert v["Ready"][:2] == ("False", "RollingOut")


def test_reconciling_while_a_child_is_missing() -> None:
    v = verdicts(variants=[DONE], children_current=False)
    assert v["Reconciling"][:2] == ("True", "ApplyingChildren")


def test_stalled_with_the_problems_reason_and_message() -> None:
    v = verdicts(problems=[Problem("ConfigMapNotFound", "spec.variants[0].programs.router.configMapKeyRef: not found")])
    assert v["Stalled"] == ("True", "ConfigMapNotFound", "spec.variants[0].programs.router.configMapKeyRef: not found")
    assert v["Ready"][:2] == ("False", "ConfigMapNotFound")
    assert v["Reconciling"][0] == "False"


def test_a_progress_deadline_stalls() -> None:
    late = VariantObservation("stable", desired_replicas=2, replicas=2, updated=1, current=True, deadline_exceeded=True)
    assert verdicts(variants=[late])["Stalled"][:2] == ("True", "ProgressDeadlineExceeded")


def test_a_failed_write_is_retried_not_stalled() -> None:
    v = verdicts(variants=[DONE], apply_error="HTTP 500")
    assert v["Reconciling"][:2] == ("True", "ApplyFailed")
    assert v["Stalled"][0] == "False"


def test_the_transition_time_moves_only_when_the_status_changes() -> None:
    first = conditions.merge([], verdicts(variants=[DONE]), 3, "T1")
    again = conditions.merge(first, verdicts(variants=[DONE]), 3, "T2")
    assert [c["lastTransitionTime"] for c in again] == ["T1", "T1", "T1"]
    assert update({"conditions": first}, {"conditions": again}).patch is None


def test_transitions_give_events_with_their_own_reasons() -> None:
    stalled = {"conditions": conditions.merge([], verdicts(problems=[Problem("SecretNotFound", "m")]), 1, "T")}
    ready = {"conditions": conditions.merge([], verdicts(variants=[DONE]), 1, "T")}
    assert [e[1] for e in transition_events({}, stalled)] == ["SecretNotFound"]
    assert [e[1] for e in transition_events(stalled, ready)] == ["Recovered", "Ready"]
