"""Pure status: observed Deployments -> the pipeline's status, whether to write it, and its events."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.desired import Desired
from evolved_operator.problems import Problem
from evolved_operator.render import PipelineInput, program_hashes, render_all
from evolved_operator.status import (
    DeploymentState,
    compute_status,
    first_visit,
    invalid_spec_status,
    observe_deployment,
    status_patch_needed,
    transition_events,
)

DOC: dict[str, Any] = {
    "variants": [
        {"name": "stable", "replicas": 2, "programs": {"router": {"inline": "def route(p, c): 1"}}},
        {"name": "cand", "role": "candidate", "replicas": 1, "programs": {"router": {"inline": "def route(p, c): 2"}}},
    ]
}
PIPELINE = PipelineInput("qa", "ns", "uid-1", 4, EvolvedPipelineSpec.model_validate(DOC), {})


def live_deployment(pipeline: PipelineInput, variant: str, **status: Any) -> dict[str, Any]:
    """The Deployment the operator rendered, as the apiserver returns it once rolled out (or with ``status``)."""
    obj = next(
        o for o in render_all(pipeline) if o["kind"] == "Deployment" and o["metadata"]["name"] == f"qa-{variant}"
    )
    live = copy.deepcopy(obj)
    n = live["spec"].get("replicas", 1)
    live["metadata"]["generation"] = 2
    live["status"] = {
        "observedGeneration": 2, "replicas": n, "readyReplicas": n, "updatedReplicas": n, "availableReplicas": n,
        **status,
    }  # fmt: skip
    return live


def observed(pipeline: PipelineInput = PIPELINE, **overrides: dict[str, Any]) -> dict[str, DeploymentState]:
    return {
        v.name: observe_deployment(live_deployment(pipeline, v.name, **overrides.get(v.name, {})))
        for v in pipeline.spec.variants
    }


def status(deployments: dict[str, DeploymentState] | None = None, **kw: Any) -> dict[str, Any]:
    pipeline = kw.pop("pipeline", PIPELINE)
    return compute_status(
        pipeline,
        observed(pipeline) if deployments is None else deployments,
        kw.pop("problems", []),
        kw.pop("previous", {}),
        kw.pop("now", "T1"),
        **kw,
    )


def condition(s: dict[str, Any], kind: str) -> dict[str, Any]:
    return dict(next(c for c in s["conditions"] if c["type"] == kind))


def summary(s: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in s["conditions"]}


READY = {"Ready": ("True", "AllVariantsAvailable"), "Reconciling": ("False", "Reconciled"),
         "Stalled": ("False", "Progressing")}  # fmt: skip


def test_ready_when_every_variant_rolled_out_with_the_generation_observed() -> None:
    s = status()
    assert summary(s) == READY
    assert s["observedGeneration"] == 4
    assert isinstance(s["observedGeneration"], int)
    assert (s["stable"], s["candidate"]) == ("stable", "cand")


def test_variant_status_reports_replicas_and_the_programs_and_image_the_deployment_runs() -> None:
    hashes = program_hashes(PIPELINE)
    assert status()["variants"] == [
        {"name": "stable", "role": "stable", "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2,
         "programHash": hashes["stable"], "image": "evolved-pipelines/runtime:0.1.0"},
        {"name": "cand", "role": "candidate", "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
         "programHash": hashes["cand"], "image": "evolved-pipelines/runtime:0.1.0"},
    ]  # fmt: skip


NOT_READY = {
    "updated pods are fewer than desired": (
        {"cand": {"replicas": 2, "updatedReplicas": 0, "availableReplicas": 1}}, "cand 0/1 updated, 1 available",
    ),
    "the Deployment controller has not seen the last change": (
        {"stable": {"observedGeneration": 1}}, "stable 2/2 updated, 2 available, new spec not yet observed",
    ),
    "an updated pod is not available yet": (
        {"stable": {"availableReplicas": 1, "readyReplicas": 1}}, "stable 2/2 updated, 1 available",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("overrides", "detail"), list(NOT_READY.values()), ids=list(NOT_READY))
def test_reconciling_and_not_ready_while_a_deployment_rolls_out(overrides: dict[str, Any], detail: str) -> None:
    s = status(observed(**overrides))
    assert summary(s)["Reconciling"] == ("True", "RollingOut")
    assert summary(s)["Ready"] == ("False", "RollingOut")
    assert condition(s, "Reconciling")["message"] == f"waiting for variants: {detail}"


def test_a_deployment_that_still_runs_the_previous_programs_is_not_ready() -> None:
    """The spec changed a program; the Deployment seen still has the old template (a stale watch)."""
    changed = copy.deepcopy(DOC)
    changed["variants"][1]["programs"]["router"]["inline"] = "def route(p, c): 3"
    newer = PipelineInput("qa", "ns", "uid-1", 5, EvolvedPipelineSpec.model_validate(changed), {})
    s = status(observed(PIPELINE), pipeline=newer)
    assert summary(s)["Ready"] == ("False", "RollingOut")
    assert "cand" in condition(s, "Reconciling")["message"]
    assert "stable" not in condition(s, "Reconciling")["message"]
    assert summary(status(observed(newer), pipeline=newer)) == READY


def test_a_deployment_with_another_replica_count_than_declared_is_not_ready() -> None:
    scaled = copy.deepcopy(DOC)
    scaled["variants"][0]["replicas"] = 3
    newer = PipelineInput("qa", "ns", "uid-1", 5, EvolvedPipelineSpec.model_validate(scaled), {})
    assert summary(status(observed(PIPELINE), pipeline=newer))["Ready"] == ("False", "RollingOut")


def test_an_autoscaled_variant_is_ready_at_the_replica_count_its_hpa_chose() -> None:
    doc = {"variants": [{"name": "stable", "autoscaling": {"minReplicas": 1, "maxReplicas": 9}}]}
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), {})
    live = live_deployment(p, "stable")
    live["spec"]["replicas"] = 4  # written by the HPA
    live["status"] |= {"replicas": 4, "readyReplicas": 4, "updatedReplicas": 4, "availableReplicas": 4}
    assert summary(status({"stable": observe_deployment(live)}, pipeline=p)) == READY
    live["status"]["availableReplicas"] = 3
    assert summary(status({"stable": observe_deployment(live)}, pipeline=p))["Ready"][0] == "False"


def test_reconciling_while_a_deployment_does_not_exist_yet() -> None:
    s = status({"stable": observed()["stable"]})
    assert summary(s)["Reconciling"] == ("True", "RollingOut")
    assert "cand (no Deployment yet)" in condition(s, "Reconciling")["message"]
    assert s["variants"][1] == {"name": "cand", "role": "candidate", "replicas": 0, "readyReplicas": 0,
                                "updatedReplicas": 0, "programHash": "", "image": ""}  # fmt: skip


def test_reconciling_while_children_are_not_applied() -> None:
    s = status(pending=["ConfigMap/qa-cand"])
    assert summary(s)["Reconciling"] == ("True", "ApplyingChildren")


def test_reconciling_after_a_failed_write() -> None:
    assert summary(status(apply_error="Conflict"))["Reconciling"] == ("True", "ApplyFailed")


def test_stalled_with_the_problems_reason_and_message_and_ready_false_alike() -> None:
    problem = Problem("SecretNotFound", "spec.llm.apiKeySecretRef: Secret 'llm' not found in namespace 'ns'")
    s = status(problems=[problem])
    assert (condition(s, "Stalled")["status"], condition(s, "Stalled")["reason"]) == ("True", "SecretNotFound")
    assert condition(s, "Stalled")["message"] == problem.message
    assert (condition(s, "Ready")["status"], condition(s, "Ready")["message"]) == ("False", problem.message)


def test_a_configmap_program_that_could_not_be_read_still_gets_a_stalled_status() -> None:
    doc = {"variants": [{"name": "stable", "programs": {"router": {"configMapKeyRef": {"name": "p", "key": "r.py"}}}}]}
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), {})
    problem = Problem("ConfigMapNotFound", "spec.variants[0].programs.router.configMapKeyRef: ConfigMap 'p' not found")
    s = compute_status(p, {}, [problem], {}, "T1")
    assert summary(s)["Stalled"] == ("True", "ConfigMapNotFound")


def test_a_deployment_past_its_progress_deadline_stalls_the_pipeline() -> None:
    deadline = {"conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}],
                "updatedReplicas": 1, "availableReplicas": 1}  # fmt: skip
    s = status(observed(stable=deadline))
    assert summary(s)["Stalled"] == ("True", "ProgressDeadlineExceeded")
    assert summary(s)["Ready"] == ("False", "ProgressDeadlineExceeded")
    assert "stable" in condition(s, "Stalled")["message"]


def test_without_a_candidate_the_candidate_field_is_cleared() -> None:
    doc = {"variants": [{"name": "stable"}]}
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), {})
    s = status(observed(p), pipeline=p)
    assert s["candidate"] is None
    assert status_patch_needed({**s, "candidate": "cand"}, s)
    assert not status_patch_needed({k: v for k, v in s.items() if k != "candidate"}, s)


def test_an_unchanged_status_keeps_its_transition_times_and_needs_no_write() -> None:
    first = status(now="T1")
    again = status(previous=first, now="T2")
    assert {c["lastTransitionTime"] for c in again["conditions"]} == {"T1"}
    assert not status_patch_needed(first, again)


def test_a_status_change_is_written_and_moves_only_the_changed_transition_times() -> None:
    first = status(now="T1")
    stalled = status(previous=first, now="T2", problems=[Problem("ConfigMapNotFound", "cm gone")])
    assert status_patch_needed(first, stalled)
    assert {c["type"]: c["lastTransitionTime"] for c in stalled["conditions"]} == {
        "Ready": "T2", "Reconciling": "T1", "Stalled": "T2",
    }  # fmt: skip


def test_a_new_generation_alone_is_written() -> None:
    first = status()
    newer = status(previous=first, pipeline=PipelineInput("qa", "ns", "uid-1", 5, PIPELINE.spec, {}), now="T2")
    assert status_patch_needed(first, newer)
    assert newer["observedGeneration"] == 5


def test_a_status_the_object_does_not_hold_yet_is_written() -> None:
    assert status_patch_needed({}, status())


def test_fields_written_by_others_do_not_force_a_write() -> None:
    first = status()
    assert not status_patch_needed({**first, "analysis": {"phase": "x"}}, first)


def test_transition_events_name_the_change() -> None:
    ready = status(now="T1")
    stalled = status(previous=ready, now="T2", problems=[Problem("SecretNotFound", "m1")])
    other = status(previous=stalled, now="T3", problems=[Problem("ConfigMapNotFound", "m2")])
    recovered = status(previous=other, now="T4")
    assert transition_events({}, ready) == [("Normal", "Ready", "2 variant(s), 3 ready replica(s)")]
    assert transition_events(ready, stalled) == [("Warning", "SecretNotFound", "m1")]
    assert transition_events(stalled, other) == [("Warning", "ConfigMapNotFound", "m2")]
    assert transition_events(other, other) == []
    assert [e[:2] for e in transition_events(other, recovered)] == [("Normal", "Recovered"), ("Normal", "Ready")]


def test_losing_readiness_without_a_stall_is_a_normal_event() -> None:
    ready = status()
    rolling = status(observed(stable={"updatedReplicas": 1}), previous=ready)
    assert [e[:2] for e in transition_events(ready, rolling)] == [("Normal", "NotReady")]


def test_a_new_generation_is_reconciling_before_any_work() -> None:
    ready = status(now="T1")
    visit = first_visit(ready, 5, "T2")
    assert summary(visit) == {"Ready": ("True", "AllVariantsAvailable"), "Reconciling": ("True", "Reconciling"),
                              "Stalled": ("False", "Progressing")}  # fmt: skip
    assert condition(visit, "Reconciling")["observedGeneration"] == 5
    assert condition(visit, "Ready")["lastTransitionTime"] == "T1"


def test_a_first_visit_with_no_history_reports_unknown() -> None:
    assert summary(first_visit({}, 1, "T1")) == {
        "Ready": ("Unknown", "Reconciling"),
        "Reconciling": ("True", "Reconciling"),
        "Stalled": ("Unknown", "Reconciling"),
    }


def test_a_spec_the_models_reject_stalls_and_keeps_the_variant_fields() -> None:
    before = status(now="T1")
    s = invalid_spec_status(6, [Problem("InvalidSpec", "spec.variants[0].name: bad")], before, "T2")
    assert set(s) == {"observedGeneration", "conditions"}
    assert summary(s)["Stalled"] == ("True", "InvalidSpec")
    assert s["observedGeneration"] == 6


def test_a_deployment_is_observed_from_the_object_the_api_returns() -> None:
    state = observe_deployment(live_deployment(PIPELINE, "cand", readyReplicas=0))
    assert state.generation == state.observed_generation == 2
    assert (state.spec_replicas, state.replicas, state.ready, state.updated, state.available) == (1, 1, 0, 1, 1)
    assert state.program_hash == program_hashes(PIPELINE)["cand"]
    assert state.image == "evolved-pipelines/runtime:0.1.0"
    assert len(state.content_hash) == 64
    assert observe_deployment({}) == DeploymentState()


def test_status_from_the_kept_template_hashes_equals_status_from_rendering_again() -> None:
    kept = Desired(pipeline=PIPELINE, objects=render_all(PIPELINE)).template_hashes()
    assert set(kept) == {"stable", "cand"}
    assert status(template_hashes=kept) == status()
    assert summary(status(template_hashes=kept)) == READY


def test_a_kept_template_hash_the_live_deployment_lacks_means_the_rollout_is_not_done() -> None:
    stale = {"stable": "0" * 16, "cand": "0" * 16}
    assert condition(status(template_hashes=stale), "Ready")["status"] == "False"
