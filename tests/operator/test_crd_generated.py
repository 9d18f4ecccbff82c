"""The committed CRD and API reference are exactly what the models generate, and read well in kubectl."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from evolved_operator import apidocs, crd


def committed() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(crd.CRD_PATH.read_text())
    return doc


def version() -> dict[str, Any]:
    v: dict[str, Any] = committed()["spec"]["versions"][0]
    return v


def test_the_committed_crd_matches_the_models() -> None:
    assert crd.CRD_PATH.read_text() == crd.render_yaml(), "crds/ is stale: run `make crd`"


def test_the_committed_api_reference_matches_the_models() -> None:
    assert apidocs.DOC_PATH.read_text() == apidocs.render(), "docs/api.md is stale: run `make crd`"


def test_the_crd_is_named_for_its_group_and_plural() -> None:
    doc = committed()
    assert doc["metadata"]["name"] == "evolvedpipelines.pipelines.evolved.io"
    assert (doc["spec"]["group"], doc["spec"]["scope"]) == ("pipelines.evolved.io", "Namespaced")
    assert (version()["name"], version()["served"], version()["storage"]) == ("v1alpha1", True, True)


def test_the_crd_has_the_names_users_type() -> None:
    names = committed()["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == (
        "EvolvedPipeline", "evolvedpipelines", "evolvedpipeline",
    )  # fmt: skip
    assert names["shortNames"] == ["evp"]
    assert names["categories"] == ["evolved"]


def test_the_status_is_a_subresource() -> None:
    assert version()["subresources"] == {"status": {}}


def test_kubectl_get_shows_ready_stable_candidate_and_age() -> None:
    columns = {c["name"]: c for c in version()["additionalPrinterColumns"]}
    shown = [c["name"] for c in version()["additionalPrinterColumns"] if c.get("priority", 0) == 0]
    assert shown == ["Ready", "Stable", "Candidate", "Age"]
    assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Stable"]["jsonPath"] == ".status.stable"
    assert columns["Candidate"]["jsonPath"] == ".status.candidate"
    assert (columns["Age"]["type"], columns["Age"]["jsonPath"]) == ("date", ".metadata.creationTimestamp")


def test_conditions_merge_by_type() -> None:
    conditions = version()["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["conditions"]
    assert (conditions["x-kubernetes-list-type"], conditions["x-kubernetes-list-map-keys"]) == ("map", ["type"])


def undocumented(node: dict[str, Any], path: str) -> list[str]:
    """Every property below ``node`` that has no description, as a dotted path."""
    missing = []
    for name, child in node.get("properties", {}).items():
        where = f"{path}.{name}"
        if not str(child.get("description", "")).strip():
            missing.append(where)
        missing += undocumented(child, where)
    if "items" in node:
        missing += undocumented(node["items"], path + "[]")
    for branch in node.get("anyOf", []):
        missing += undocumented(branch, path)
    return missing


@pytest.mark.parametrize("part", ["spec", "status"])
def test_every_property_has_a_description(part: str) -> None:
    """`kubectl explain evolvedpipeline.<part>` documents every field."""
    schema = version()["schema"]["openAPIV3Schema"]["properties"][part]
    assert str(schema.get("description", "")).strip(), f".{part} has no description"
    missing = undocumented(schema, f".{part}")
    assert missing == [], f"add a description (Field(description=...)) in api.py to: {', '.join(missing)}"


def test_the_description_walk_finds_a_missing_description() -> None:
    node = {"properties": {"a": {"description": "x", "items": {"properties": {"b": {"type": "string"}}}}}}
    assert undocumented(node, ".spec") == [".spec.a[].b"]
