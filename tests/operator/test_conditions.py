"""Pure condition policies: kstatus-compatible Ready / Reconciling / Stalled."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator import conditions
from evolved_operator.conditions import Observation, VariantObservation, compute_conditions, evaluate
from evolved_operator.problems import Problem

DONE = VariantObservation("stable", desired_replicas=2, replicas=2, ready=2, updated=2, available=2, current=True)
CAND_DONE = VariantObservation("cand", desired_replicas=1, replicas=1, ready=1, updated=1, available=1, current=True)


def verdicts(**kw: Any) -> dict[str, conditions.Verdict]:
    return evaluate(Observation(generation=3, **kw))


def statuses(v: dict[str, conditions.Verdict]) -> tuple[str, str, str]:
    return (v["Ready"][0], v["Reconciling"][0], v["Stalled"][0])


def test_ready_when_every_variant_has_rolled_out() -> None:
    v = verdicts(variants=[DONE, CAND_DONE])
    assert statuses(v) == ("True", "False", "False")
    assert v["Ready"][1] == "AllVariantsAvailable"
    assert v["Ready"][2] == "2 variant(s), 3 ready replica(s)"


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
    "updated pods are not available yet": VariantObservation(
        "cand", desired_replicas=2, replicas=2, ready=1, updated=2, available=1, current=True
    ),
    "more pods than desired while scaling down": VariantObservation(
        "cand", desired_replicas=1, replicas=2, ready=2, updated=2, available=2, current=True
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


def test_the_rollout_message_says_how_far_each_waiting_variant_is() -> None:
    late = VariantObservation("cand", desired_replicas=3, replicas=3, updated=1, available=2, current=False)
    missing = VariantObservation("new", desired_replicas=None)
    message = verdicts(variants=[late, missing])["Reconciling"][2]
    assert message == (
        "waiting for variants: cand 1/3 updated, 2 available, new spec not yet observed, new (no Deployment yet)"
    )


def test_a_variant_scaled_to_zero_is_rolled_out_with_no_pods() -> None:
    zero = VariantObservation("cand", desired_replicas=0, current=True)
    assert statuses(verdicts(variants=[DONE, zero])) == ("True", "False", "False")


def test_reconciling_while_children_are_not_applied_yet() -> None:
    v = verdicts(variants=[DONE], pending=["Service/qa-stable", "ConfigMap/qa-stable"])
    assert v["Reconciling"] == (
        "True",
        "ApplyingChildren",
        "creating or updating Service/qa-stable, ConfigMap/qa-stable",
    )
    assert v["Ready"][:2] == ("False", "ApplyingChildren")
    assert v["Stalled"][0] == "False"


def test_stalled_with_the_problems_reason_and_message() -> None:
    problem = Problem("ConfigMapNotFound", "spec.variants[0].programs.router.configMapKeyRef: not found")
    v = verdicts(variants=[DONE], problems=[problem])
    assert v["Stalled"] == ("True", "ConfigMapNotFound", problem.message)
    assert v["Ready"] == ("False", "ConfigMapNotFound", problem.message)
    assert v["Reconciling"] == ("False", "ConfigMapNotFound", "blocked: " + problem.message)


STALLING_PROBLEMS = [
    Problem("ConfigMapNotFound", "spec.variants[1].programs.router.configMapKeyRef: ConfigMap 'p' not found"),
    Problem("ConfigMapKeyNotFound", "spec.variants[1].programs.router.configMapKeyRef: no key 'r.py'"),
    Problem("ProgramDigestMismatch", "spec.variants[1].programs.router.configMapKeyRef.sha256: pinned aaa, found bbb"),
    Problem("SecretNotFound", "spec.llm.apiKeySecretRef: Secret 'llm' not found"),
    Problem("ProgramCheckFailed", "spec.variants[0].programs (stable): router: route() raised ZeroDivisionError"),
]


@pytest.mark.parametrize("problem", STALLING_PROBLEMS, ids=[p.reason for p in STALLING_PROBLEMS])
def test_every_semantic_problem_stalls_even_when_pods_are_fine(problem: Problem) -> None:
    v = verdicts(variants=[DONE, CAND_DONE], problems=[problem])
    assert statuses(v) == ("False", "False", "True")
    assert v["Stalled"][1:] == (problem.reason, problem.message)


def test_several_problems_stall_with_the_first_reason_and_every_message() -> None:
    problems = [Problem("SecretNotFound", "spec.llm.apiKeySecretRef: gone"), Problem("ConfigMapNotFound", "cm gone")]
    assert verdicts(problems=problems)["Stalled"] == (
        "True",
        "SecretNotFound",
        "spec.llm.apiKeySecretRef: gone; cm gone",
    )


def test_a_progress_deadline_stalls_naming_the_variant() -> None:
    late = VariantObservation("cand", desired_replicas=2, replicas=2, updated=1, current=True, deadline_exceeded=True)
    v = verdicts(variants=[DONE, late])
    assert v["Stalled"] == (
        "True",
        "ProgressDeadlineExceeded",
        "rollout of variant(s) cand exceeded its progress deadline",
    )
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


def test_each_chain_ends_with_a_policy_that_always_decides() -> None:
    empty = Observation(generation=1)
    assert conditions.STALLED[-1](empty) is not None
    assert conditions.RECONCILING[-1](empty) is not None
    with pytest.raises(ValueError, match="always decides"):
        conditions.chain([conditions.stalled_by_problems], empty)


def test_the_conditions_come_in_a_fixed_order_with_the_generation() -> None:
    merged = compute_conditions(Observation(generation=3, variants=[DONE]), [], "T1")
    assert [c["type"] for c in merged] == ["Ready", "Reconciling", "Stalled"]
    assert {c["observedGeneration"] for c in merged} == {3}
    assert set(merged[0]) == {"type", "status", "reason", "message", "observedGeneration", "lastTransitionTime"}


def test_the_transition_time_is_kept_while_the_status_is_unchanged() -> None:
    first = compute_conditions(Observation(generation=3, variants=[DONE]), [], "T1")
    again = compute_conditions(Observation(generation=4, variants=[DONE]), first, "T2")
    assert [c["lastTransitionTime"] for c in again] == ["T1", "T1", "T1"]
    assert {c["observedGeneration"] for c in again} == {4}


def test_the_transition_time_moves_only_for_conditions_whose_status_changed() -> None:
    first = compute_conditions(Observation(generation=3, variants=[DONE]), [], "T1")
    failing = compute_conditions(Observation(generation=3, variants=[DONE], apply_error="x"), first, "T2")
    assert {c["type"]: c["lastTransitionTime"] for c in failing} == {
        "Ready": "T2",
        "Reconciling": "T2",
        "Stalled": "T1",
    }


def test_a_reason_change_alone_keeps_the_transition_time() -> None:
    first = compute_conditions(Observation(1, problems=[Problem("SecretNotFound", "a")]), [], "T1")
    second = compute_conditions(Observation(1, problems=[Problem("ConfigMapNotFound", "b")]), first, "T2")
    stalled = next(c for c in second if c["type"] == "Stalled")
    assert (stalled["reason"], stalled["message"], stalled["lastTransitionTime"]) == ("ConfigMapNotFound", "b", "T1")


def test_a_huge_message_is_cut_to_what_the_crd_accepts() -> None:
    merged = compute_conditions(Observation(1, problems=[Problem("ProgramCheckFailed", "x" * 40000)]), [], "T1")
    assert {len(c["message"]) for c in merged} <= {conditions.MAX_MESSAGE}
