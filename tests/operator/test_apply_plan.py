"""A reconcile applies only what differs from what the cluster holds, and deletes what is no longer wanted."""

from __future__ import annotations

from typing import Any

from evolved_operator.apply_plan import content_hash, plan, with_applied_hash
from evolved_operator.cache import ChildCache
from evolved_operator.constants import ANNOTATION_APPLIED_HASH, LABEL_PIPELINE


def _obj(kind: str, name: str, data: str = "a") -> dict[str, Any]:
    api = {"Deployment": "apps/v1", "HorizontalPodAutoscaler": "autoscaling/v2"}.get(kind, "v1")
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "namespace": "ns", "labels": {LABEL_PIPELINE: "p"}},
        "data": {"x": data},
    }


def _observed(*objs: dict[str, Any]) -> ChildCache:
    cache = ChildCache()
    for obj in objs:
        cache.upsert(with_applied_hash(obj))
    return cache


def test_nothing_is_applied_when_every_child_carries_the_desired_hash() -> None:
    desired = [_obj("ConfigMap", "c"), _obj("Deployment", "d")]
    result = plan(desired, _observed(*desired).children(("ns", "p")))
    assert result.empty
    assert result.unchanged == 2


def test_a_changed_object_is_applied_and_the_others_are_left_alone() -> None:
    before = [_obj("ConfigMap", "c"), _obj("Deployment", "d")]
    after = [_obj("ConfigMap", "c", data="b"), _obj("Deployment", "d")]
    result = plan(after, _observed(*before).children(("ns", "p")))
    assert [o["metadata"]["name"] for o in result.to_apply] == ["c"]
    assert result.to_apply[0]["metadata"]["annotations"][ANNOTATION_APPLIED_HASH] == content_hash(after[0])


def test_missing_children_are_applied_in_dependency_order() -> None:
    desired = [_obj("HorizontalPodAutoscaler", "h"), _obj("Deployment", "d"), _obj("ConfigMap", "c")]
    result = plan(desired, {})
    assert [o["kind"] for o in result.to_apply] == ["ConfigMap", "Deployment", "HorizontalPodAutoscaler"]


def test_a_child_no_longer_desired_is_deleted() -> None:
    observed = _observed(_obj("ConfigMap", "c"), _obj("HorizontalPodAutoscaler", "h"))
    result = plan([_obj("ConfigMap", "c")], observed.children(("ns", "p")))
    assert [(c.kind, c.name) for c in result.to_delete] == [("HorizontalPodAutoscaler", "h")]
    assert not result.to_apply


def test_the_hash_does_not_depend_on_key_order() -> None:
    a = {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}}
    b = {"data": {"b": "2", "a": "1"}, "metadata": {"name": "x"}, "kind": "ConfigMap"}
    assert content_hash(a) == content_hash(b)


def test_objects_without_a_pipeline_label_are_not_cached() -> None:
    cache = ChildCache()
    assert cache.upsert({"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "ns"}}) is None
    assert cache.count() == 0
