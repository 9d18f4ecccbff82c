"""Which objects a pipeline gets, their names, labels, selectors and owner references."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.api import EvolvedPipeline, EvolvedPipelineSpec
from evolved_operator.constants import LABEL_MANAGED_BY, LABEL_PIPELINE, LABEL_VARIANT
from evolved_operator.desired import render_children
from evolved_operator.render import PipelineInput, UnresolvedProgram, program_hashes, render_all

TWO_VARIANTS: dict[str, Any] = {
    "variants": [{"name": "stable", "role": "stable", "replicas": 2}, {"name": "cand", "role": "candidate"}]
}
Objects = dict[tuple[str, str], Any]
COMPONENT = "app.kubernetes.io/component"


def pipeline(doc: dict[str, Any], programs: dict[str, dict[str, str]] | None = None) -> PipelineInput:
    return PipelineInput("qa", "ns", "uid-1", 3, EvolvedPipelineSpec.model_validate(doc), programs or {})


def objects(doc: dict[str, Any] = TWO_VARIANTS) -> Objects:
    return {(o["kind"], o["metadata"]["name"]): o for o in render_children(pipeline(doc))}


def test_each_variant_gets_a_configmap_deployment_and_service_and_the_pipeline_a_router() -> None:
    assert sorted(objects()) == [
        ("ConfigMap", "qa-cand"), ("ConfigMap", "qa-stable"),
        ("Deployment", "qa-cand"), ("Deployment", "qa-router"), ("Deployment", "qa-stable"),
        ("HorizontalPodAutoscaler", "qa-router"), ("Lease", "qa-router"),
        ("PodDisruptionBudget", "qa-router"), ("PodDisruptionBudget", "qa-stable"),
        ("Role", "qa-router"), ("RoleBinding", "qa-router"),
        ("Service", "qa"), ("Service", "qa-cand"), ("Service", "qa-stable"),
        ("ServiceAccount", "qa-router"),
    ]  # fmt: skip


def test_with_provider_service_the_entry_service_is_the_only_traffic_object() -> None:
    doc = TWO_VARIANTS | {"traffic": {"provider": "service"}}
    assert sorted(k for k in objects(doc) if "router" in k[1] or k[1] == "qa") == [("Service", "qa")]


@pytest.mark.parametrize(
    ("variant", "has_budget"),
    [
        ({"replicas": 1}, False),
        ({}, False),
        ({"replicas": 2}, True),
        ({"autoscaling": {"maxReplicas": 1}}, False),
        ({"autoscaling": {"maxReplicas": 4}}, True),
    ],
)
def test_only_a_variant_that_can_have_two_pods_gets_a_disruption_budget(
    variant: dict[str, Any], has_budget: bool
) -> None:
    doc = {"variants": [{"name": "s", **variant}]}
    assert (("PodDisruptionBudget", "qa-s") in objects(doc)) is has_budget


def test_only_an_autoscaled_variant_gets_an_hpa() -> None:
    doc = {"variants": [{"name": "stable", "autoscaling": {"maxReplicas": 3}}, {"name": "c", "role": "candidate"}]}
    hpas = [name for kind, name in objects(doc) if kind == "HorizontalPodAutoscaler"]
    assert hpas == ["qa-stable", "qa-router"]  # the router's own HPA: it scales on CPU unless its count is fixed


def test_every_object_is_controlled_by_the_pipeline() -> None:
    for obj in objects().values():
        assert obj["metadata"]["namespace"] == "ns"
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "pipelines.evolved.io/v1alpha1",
                "kind": "EvolvedPipeline",
                "name": "qa",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]


def test_every_object_is_ready_for_server_side_apply() -> None:
    for obj in objects().values():
        assert set(obj) <= {"apiVersion", "kind", "metadata", "spec", "data", "rules", "roleRef", "subjects"}
        assert set(obj["metadata"]) == {"name", "namespace", "labels", "ownerReferences"}
        assert "status" not in obj


def test_every_object_carries_the_recommended_labels_and_the_pipeline_label() -> None:
    for (kind, name), obj in objects().items():
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "evolved-runtime"
        assert labels["app.kubernetes.io/instance"] == name
        assert labels["app.kubernetes.io/part-of"] == "qa"
        assert labels["app.kubernetes.io/component"], kind
        assert labels[LABEL_MANAGED_BY] == "evolved-operator"
        assert labels[LABEL_PIPELINE] == "qa"
        assert labels.get(LABEL_VARIANT) == (None if name in ("qa", "qa-router") else name.removeprefix("qa-"))


def test_a_variants_objects_say_its_role_but_its_pods_do_not() -> None:
    objs = objects()
    assert objs[("Deployment", "qa-cand")]["metadata"]["labels"]["pipelines.evolved.io/role"] == "candidate"
    assert objs[("Service", "qa-stable")]["metadata"]["labels"]["pipelines.evolved.io/role"] == "stable"
    pod_labels = objs[("Deployment", "qa-cand")]["spec"]["template"]["metadata"]["labels"]
    assert "pipelines.evolved.io/role" not in pod_labels


def test_a_deployment_selects_exactly_its_own_pods() -> None:
    deployment = objects()[("Deployment", "qa-cand")]["spec"]
    selector = deployment["selector"]["matchLabels"]
    assert selector == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "cand"}
    assert selector.items() <= deployment["template"]["metadata"]["labels"].items()


def test_the_entry_service_selects_the_router_and_each_variant_service_its_variant() -> None:
    objs = objects()
    assert objs[("Service", "qa")]["spec"]["selector"] == {LABEL_PIPELINE: "qa", COMPONENT: "router"}
    spanning = objects(TWO_VARIANTS | {"traffic": {"provider": "service"}})[("Service", "qa")]
    assert spanning["spec"]["selector"] == {LABEL_PIPELINE: "qa", COMPONENT: "worker"}
    assert objs[("Service", "qa-stable")]["spec"]["selector"] == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "stable"}
    assert objs[("Service", "qa-cand")]["spec"]["selector"] == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "cand"}
    for name in ("qa", "qa-stable", "qa-cand"):
        assert objs[("Service", name)]["spec"]["ports"] == [
            {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
        ]


def test_the_disruption_budget_evicts_one_pod_of_its_variant_at_a_time() -> None:
    pdb = objects()[("PodDisruptionBudget", "qa-stable")]["spec"]
    assert pdb == {"maxUnavailable": 1, "selector": {"matchLabels": {LABEL_PIPELINE: "qa", LABEL_VARIANT: "stable"}}}


def test_rendering_is_deterministic() -> None:
    doc = {"variants": [{"name": "s", "programs": {"router": {"configMapKeyRef": {"name": "p", "key": "r.py"}}}}]}
    assert render_all(pipeline(doc, {"s": {"router": "a"}})) == render_all(pipeline(doc, {"s": {"router": "a"}}))


def test_a_configmap_program_that_was_not_resolved_is_refused_not_replaced_by_the_default() -> None:
    doc = {"variants": [{"name": "s", "programs": {"router": {"configMapKeyRef": {"name": "p", "key": "r.py"}}}}]}
    with pytest.raises(UnresolvedProgram, match=r"variant s: the router program from ConfigMap p/r\.py"):
        render_all(pipeline(doc))


def test_the_input_is_built_from_the_object_the_api_returns() -> None:
    body = {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": "qa", "namespace": "ns", "uid": "u", "generation": 7, "resourceVersion": "1"},
        "spec": TWO_VARIANTS,
        "status": {"observedGeneration": 6},
    }
    p = PipelineInput.from_object(body)
    assert (p.name, p.namespace, p.uid, p.generation) == ("qa", "ns", "u", 7)
    assert p == PipelineInput.from_resource(EvolvedPipeline.model_validate(body))
    assert program_hashes(p).keys() == {"stable", "cand"}
