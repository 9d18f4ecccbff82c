"""Two pipelines of one namespace whose derived child names meet (pipeline a, variant b-c and
pipeline a-b, variant c both want a-b-c): the older pipeline keeps the names, the other stalls."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.apply_plan import name_conflicts
from evolved_operator.cache import ChildCache
from evolved_operator.constants import LABEL_PIPELINE


def obj(kind: str, name: str, pipeline: str = "a") -> dict[str, Any]:
    return {
        "kind": kind,
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "ns", "labels": {LABEL_PIPELINE: pipeline}},
    }


@pytest.mark.parametrize(
    ("owners", "reason", "names"),
    [
        ({}, None, None),
        ({("Deployment", "a-b-c"): "a-b"}, "ChildNameConflict", "Deployment/a-b-c"),
        (
            {("Service", "a-b-c"): "a-b", ("Deployment", "a-b-c"): "a-b"},
            "ChildNameConflict",
            "Deployment/a-b-c, Service/a-b-c",
        ),
        ({("Deployment", "elsewhere"): "a-b"}, None, None),  # not a name this pipeline wants
    ],
)
def test_children_another_pipeline_holds_stall_the_pipeline(
    owners: dict[tuple[str, str], str], reason: str | None, names: str | None
) -> None:
    desired = [obj("Deployment", "a-b-c"), obj("Service", "a-b-c"), obj("Service", "a")]
    problems = name_conflicts("a", desired, owners)
    if reason is None:
        assert problems == []
        return
    [problem] = problems
    assert problem.reason == reason
    assert names in problem.message
    assert "pipeline a-b" in problem.message


def test_a_child_whose_pipeline_label_changes_moves_to_its_new_pipeline() -> None:
    cache = ChildCache()
    cache.upsert(obj("Deployment", "a-b-c", "a"))
    assert cache.owner("ns", "Deployment", "a-b-c") == ("ns", "a")
    cache.upsert(obj("Deployment", "a-b-c", "a-b"))
    assert cache.owner("ns", "Deployment", "a-b-c") == ("ns", "a-b")
    assert cache.children(("ns", "a")) == {}
    assert set(cache.children(("ns", "a-b"))) == {("Deployment", "a-b-c")}
    cache.remove(obj("Deployment", "a-b-c", "a-b"))
    assert cache.owner("ns", "Deployment", "a-b-c") is None
