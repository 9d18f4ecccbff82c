"""Pure status: observed children -> the pipeline's status, whether to write it, and its events."""

from __future__ import annotations

import copy
from typing import Any

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.apply_plan import key_of, with_applied_hash
from evolved_operator.cache import Child, ChildKey, summarize
from evolved_operator.constants import ANNOTATION_APPLIED_HASH, ANNOTATION_PROGRAM_HASH
from evolved_operator.desired import Desired
from evolved_operator.problems import Problem
from evolved_operator.render import Owner, render_all
from evolved_operator.status import compute_status, first_visit, transition_events, update

OWNER = Owner(name="qa", namespace="ns", uid="uid-1")
SPEC = EvolvedPipelineSpec.model_validate(
    {"variants": [{"name": "stable", "replicas": 2}, {"name": "cand", "role": "candidate", "replicas": 1}]}
)
PROGRAMS = {"stable": {"router": "def route(p, c): 1"}, "cand": {"router": "def route(p, c): 2"}}


def desired() -> Desired:
    rendered = render_all(OWNER, SPEC, PROGRAMS)
    return Desired(objects=rendered.objects, program_hashes=rendered.program_hashes)


def rolled_out(obj: dict[str, Any]) -> dict[str, Any]:
    """A stamped object as the apiserver returns it once its Deployment finished rolling out."""
    live = copy.deepcopy(with_applied_hash(obj))
    live["metadata"]["generation"] = 1
    if obj["kind"] == "Deployment":
        n = obj["spec"]["replicas"]
        live["status"] = {
            "observedGeneration": 1, "replicas": n, "readyReplicas": n, "updatedReplicas": n, "availableReplicas": n,
        }  # fmt: skip
    return live


def cluster(**deployment_status: dict[str, Any]) -> dict[ChildKey, Child]:
    """Every desired child, rolled out, with the given Deployments' status replaced."""
    children = {}
    for obj in desired().objects:
        live = rolled_out(obj)
        name = obj["metadata"]["name"].removeprefix("qa-")
        if obj["kind"] == "Deployment" and name in deployment_status:
            live["status"] = deployment_status[name]
        children[key_of(obj)] = summarize(live)
    return children


def status(
    children: dict[ChildKey, Child], previous: dict[str, Any] | None = None, timestamp: str = "T1", **kw: Any
) -> dict[str, Any]:
    return compute_status(OWNER, SPEC, 1, children, desired().hashes(), kw.pop("problems", []), previous or {},
                          timestamp, **kw)  # fmt: skip


def condition(s: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in s["conditions"] if c["type"] == kind)


def summary(s: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in s["conditions"]}


def test_ready_when_every_variant_rolled_out() -> None:
    s = status(cluster())
    assert summary(s) == {
        "Ready": ("True", "AllVariantsAvailable"),
        "Reconciling": ("False", "Reconciled"),
        "Stalled": ("False", "Progressing"),
    }
    assert s["observedGeneration"] == 1
    assert (s["stable"], s["candidate"]) == ("stable", "cand")


def test_variant_status_reports_replicas_and_the_program_hash_the_pods_run() -> None:
    s = status(cluster())
    hashes = desired().program_hashes
    assert s["variants"] == [
        {"name": "stable", "role": "stable", "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2,
         "programHash": hashes["stable"], "image": SPEC.image.reference()},
        {"name": "cand", "role": "candidate", "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1,
         "programHash": hashes["cand"], "image": SPEC.image.reference()},
    ]  # fmt: skip
    deployment = cluster()[("Deployment", "qa-stable")]
    assert deployment.annotations[ANNOTATION_PROGRAM_HASH] == hashes["stable"]


def test_reconciling_while_updated_pods_are_fewer_than_desired() -> None:
    rolling = {"observedGeneration": 1, "replicas": 3, "readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}
    s = status(cluster(stable=rolling))
    assert summary(s)["Reconciling"] == ("True", "RollingOut")
    assert summary(s)["Ready"] == ("False", "RollingOut")
    assert "stable 2/2 ready, 1 updated" in condition(s, "Reconciling")["message"]


def test_reconciling_while_the_deployment_controller_has_not_seen_the_new_generation() -> None:
    children = cluster()
    stale = children[("Deployment", "qa-cand")]
    children[("Deployment", "qa-cand")] = Child(**{**stale.__dict__, "generation": 2})
    assert summary(status(children))["Reconciling"] == ("True", "RollingOut")


def test_reconciling_while_a_child_is_missing() -> None:
    children = cluster()
    del children[("Service", "qa-cand")]
    s = status(children)
    assert summary(s)["Reconciling"] == ("True", "ApplyingChildren")
    assert summary(s)["Ready"][0] == "False"


def test_reconciling_while_a_child_carries_an_older_content() -> None:
    children = cluster()
    old = children[("ConfigMap", "qa-stable")]
    children[("ConfigMap", "qa-stable")] = Child(**{**old.__dict__, "applied_hash": "0" * 16})
    assert summary(status(children))["Reconciling"] == ("True", "ApplyingChildren")


def test_reconciling_while_a_deployment_does_not_exist_yet() -> None:
    s = compute_status(OWNER, SPEC, 1, {}, desired().hashes(), [], {}, "T1")
    assert summary(s)["Reconciling"][0] == "True"
    assert [v["replicas"] for v in s["variants"]] == [0, 0]


def test_stalled_with_the_problems_reason_and_message_and_ready_false_alike() -> None:
    problem = Problem("SecretNotFound", "spec.llm.apiKeySecretRef: Secret 'llm' not found in namespace 'ns'")
    s = status(cluster(), problems=[problem])
    assert (condition(s, "Stalled")["status"], condition(s, "Stalled")["reason"]) == ("True", "SecretNotFound")
    assert condition(s, "Stalled")["message"] == problem.message
    assert (condition(s, "Ready")["status"], condition(s, "Ready")["reason"]) == ("False", "SecretNotFound")
    assert condition(s, "Ready")["message"] == problem.message


def test_a_problem_with_no_children_applied_is_stalled_not_reconciling() -> None:
    s = compute_status(OWNER, SPEC, 1, {}, {}, [Problem("InvalidSpec", "spec.variants: bad")], {}, "T1")
    assert summary(s)["Stalled"] == ("True", "InvalidSpec")
    assert summary(s)["Reconciling"][0] == "False"


def test_a_deployment_past_its_progress_deadline_stalls_the_pipeline() -> None:
    late = {
        "observedGeneration": 1, "replicas": 2, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}],
    }  # fmt: skip
    s = status(cluster(stable=late))
    assert summary(s)["Stalled"] == ("True", "ProgressDeadlineExceeded")
    assert summary(s)["Ready"] == ("False", "ProgressDeadlineExceeded")
    assert "stable" in condition(s, "Stalled")["message"]


def test_an_unchanged_status_keeps_its_transition_times_and_needs_no_write() -> None:
    first = status(cluster(), timestamp="T1")
    again = status(cluster(), previous=first, timestamp="T2")
    assert {c["lastTransitionTime"] for c in again["conditions"]} == {"T1"}
    assert update(first, again).patch is None


def test_a_changed_status_is_written_with_its_events() -> None:
    first = status(cluster(), timestamp="T1")
    stalled = status(cluster(), previous=first, timestamp="T2", problems=[Problem("ConfigMapNotFound", "cm gone")])
    result = update(first, stalled)
    assert result.patch == stalled
    assert result.events == [("Warning", "ConfigMapNotFound", "cm gone")]
    assert condition(stalled, "Stalled")["lastTransitionTime"] == "T2"


def test_a_status_without_fields_the_object_holds_is_written() -> None:
    first = status(cluster())
    assert update({}, first).patch == first


def test_transition_events_name_the_change() -> None:
    ready = status(cluster(), timestamp="T1")
    stalled = status(cluster(), previous=ready, timestamp="T2", problems=[Problem("SecretNotFound", "m1")])
    other = status(cluster(), previous=stalled, timestamp="T3", problems=[Problem("ConfigMapNotFound", "m2")])
    recovered = status(cluster(), previous=other, timestamp="T4")
    assert transition_events({}, ready) == [("Normal", "Ready", condition(ready, "Ready")["message"])]
    assert transition_events(ready, stalled) == [("Warning", "SecretNotFound", "m1")]
    assert transition_events(stalled, other) == [("Warning", "ConfigMapNotFound", "m2")]
    assert transition_events(other, other) == []
    assert [e[:2] for e in transition_events(other, recovered)] == [("Normal", "Recovered"), ("Normal", "Ready")]


def test_losing_readiness_without_a_stall_is_a_normal_event() -> None:
    ready = status(cluster())
    rolling = {"observedGeneration": 1, "replicas": 3, "readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}
    assert [e[:2] for e in transition_events(ready, status(cluster(stable=rolling), previous=ready))] == [
        ("Normal", "NotReady")
    ]


def test_a_new_generation_is_reconciling_before_any_work() -> None:
    ready = status(cluster(), timestamp="T1")
    visit = first_visit(ready, 2, "T2")
    assert summary(visit)["Reconciling"] == ("True", "Reconciling")
    assert condition(visit, "Reconciling")["observedGeneration"] == 2
    assert summary(visit)["Ready"] == ("True", "AllVariantsAvailable")
    assert condition(visit, "Ready")["lastTransitionTime"] == "T1"


def test_a_first_visit_with_no_history_reports_unknown() -> None:
    visit = first_visit({}, 1, "T1")
    assert summary(visit) == {
        "Ready": ("Unknown", "Reconciling"),
        "Reconciling": ("True", "Reconciling"),
        "Stalled": ("Unknown", "Reconciling"),
    }


def test_children_are_stamped_with_the_hash_status_compares() -> None:
    stamped = with_applied_hash(desired().objects[0])
    assert stamped["metadata"]["annotations"][ANNOTATION_APPLIED_HASH] == desired().hashes()[key_of(stamped)]
