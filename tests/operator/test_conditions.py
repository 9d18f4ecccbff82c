"""Pure condition policies: kstatus-compatible Ready / Reconciling / Stalled."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator import conditions
from evolved_operator.conditions import Observation, VariantObservation
from evolved_operator.problems import Problem

DONE = VariantObservation("stable", desired_replicas=2, replicas=2, ready=2, updated=2, available=2, current=True)
CAND_DONE = VariantObservation("cand", desired_replicas=1, replicas=1, ready=1, updated=1, available=1, current=True)


def verdicts(**kw: Any) -> dict[str, conditions.Verdict]:
    return conditions.compute(Observation(generation=3, **kw))


def statuses(v: dict[str, conditions.Verdict]) -> tuple[str, str, str]:
    return (v["Ready"][0], v["Reconciling"][0], v["Stalled"][0])


def test_ready_when_every_variant_has_rolled_out() -> None:
    v = verdicts(variants=[DONE, CAND_DONE])
    assert statuses(v) == ("True", "False", "False")
    assert v["Ready"][1] == "AllVariantsAvailable"
    assert "3 ready replica(s)" in v["Ready"][2]


NOT_ROLLED_OUT = {
    "the Deployment does not exist yet": VariantObservation("cand", desired_replicas=None),
    "its controller has not seen the last spec": VariantObservation(
        "cand", desired_replicas=1, replicas=1, ready=1, updated=1, available=1, current=False
    ),
    "fewer pods are updated than desired": VariantObservation(
        "cand", desired_replicas=2, replicas=3, ready=2, updated=1, available=2, current=True
    ),
    "old pods are still running next to updated ones": VariantObservation(
        "cand", desired_replicas=2, replicas=3, ready=3, updated=2, available=3, current=True
    ),
    "updated pods are not ready yet": VariantObservation(
        "cand", desired_replicas=2, replicas=2, ready=1, updated=2, available=1, current=True
    ),
    "updated pods are ready but not yet available": VariantObservation(
        "cand", desired_replicas=2, replicas=2, ready=2, updated=2, available=1, current=True
    ),
}


@pytest.mark.parametrize("candidate", list(NOT_ROLLED_OUT.values()), ids=list(NOT_ROLLED_OUT))
def test_not_ready_but_reconciling_while_one_variant_has_not_rolled_out(candidate: VariantObservation) -> None:
    v = verdicts(variants=[DONE, candidate])
    assert statuses(v) == ("False", "True", "False")
    assert v["Reconciling"][:2] == ("True", "RollingOut")
    assert v["Ready"][:2] == ("False", "RollingOut")
    assert "cand" in v["Reconciling"][2]
    assert "stable" not in v["Reconciling"][2]


def test_a_variant_scaled_to_zero_is_rolled_out_with_no_pods() -> None:
    zero = VariantObservation("cand", desired_replicas=0, current=True)
    assert statuses(verdicts(variants=[DONE, zero])) == ("True", "False", "False")


def test_reconciling_while_a_child_is_missing() -> None:
    v = verdicts(variants=[DONE], children_current=False)
    assert v["Reconciling"][:2] == ("True", "ApplyingChildren")
    assert v["Ready"][:2] == ("False", "ApplyingChildren")
    assert v["Stalled"][0] == "False"


def test_stalled_with_the_problems_reason_and_message() -> None:
    problem = Problem("ConfigMapNotFound", "spec.variants[0].programs.router.configMapKeyRef: not found")
    v = verdicts(variants=[DONE], problems=[problem])
    assert v["Stalled"] == ("True", "ConfigMapNotFound", problem.message)
    assert v["Ready"] == ("False", "ConfigMapNotFound", problem.message)
    assert v["Reconciling"][:2] == ("False", "ConfigMapNotFound")


def test_several_problems_stall_with_the_first_reason_and_every_message() -> None:
    problems = [Problem("SecretNotFound", "spec.llm.apiKeySecretRef: gone"), Problem("ConfigMapNotFound", "cm gone")]
    stalled = verdicts(problems=problems)["Stalled"]
    assert stalled[:2] == ("True", "SecretNotFound")
    assert "spec.llm.apiKeySecretRef: gone" in stalled[2]
    assert "cm gone" in stalled[2]


def test_a_progress_deadline_stalls_naming_the_variant() -> None:
    late = VariantObservation("cand", desired_replicas=2, replicas=2, updated=1, current=True, deadline_exceeded=True)
    v = verdicts(variants=[DONE, late])
    assert v["Stalled"][:2] == ("True", "ProgressDeadlineExceeded")
    assert "cand" in v["Stalled"][2]
    assert v["Ready"][:2] == ("False", "ProgressDeadlineExceeded")
    assert v["Reconciling"][0] == "False"


def test_problems_win_over_a_progress_deadline() -> None:
    late = VariantObservation("stable", desired_replicas=2, current=True, deadline_exceeded=True)
    assert verdicts(variants=[late], problems=[Problem("InvalidSpec", "m")])["Stalled"][1] == "InvalidSpec"


def test_a_failed_write_is_retried_not_stalled() -> None:
    v = verdicts(variants=[DONE], apply_error="HTTP 500")
    assert v["Reconciling"] == ("True", "ApplyFailed", "retrying: HTTP 500")
    assert v["Ready"][:2] == ("False", "ApplyFailed")
    assert v["Stalled"][0] == "False"


def test_the_conditions_are_written_in_a_fixed_order_with_the_generation() -> None:
    merged = conditions.merge([], verdicts(variants=[DONE]), 3, "T1")
    assert [c["type"] for c in merged] == ["Ready", "Reconciling", "Stalled"]
    assert {c["observedGeneration"] for c in merged} == {3}


def test_the_transition_time_is_kept_while_the_status_is_unchanged() -> None:
    first = conditions.merge([], verdicts(variants=[DONE]), 3, "T1")
    again = conditions.merge(first, verdicts(variants=[DONE]), 4, "T2")
    assert [c["lastTransitionTime"] for c in again] == ["T1", "T1", "T1"]
    assert {c["observedGeneration"] for c in again} == {4}


def test_the_transition_time_moves_only_for_conditions_whose_status_changed() -> None:
    first = conditions.merge([], verdicts(variants=[DONE]), 3, "T1")
    failing = conditions.merge(first, verdicts(variants=[DONE], apply_error="x"), 3, "T2")
    assert {c["type"]: c["lastTransitionTime"] for c in failing} == {
        "Ready": "T2", "Reconciling": "T2", "Stalled": "T1",
    }  # fmt: skip


def test_a_reason_change_alone_keeps_the_transition_time() -> None:
    first = conditions.merge([], verdicts(problems=[Problem("SecretNotFound", "a")]), 1, "T1")
    second = conditions.merge(first, verdicts(problems=[Problem("ConfigMapNotFound", "b")]), 1, "T2")
    stalled = next(c for c in second if c["type"] == "Stalled")
    assert (stalled["reason"], stalled["lastTransitionTime"]) == ("ConfigMapNotFound", "T1")
