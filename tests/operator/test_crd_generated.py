"""The committed CRD and API reference are exactly what the models generate, and read well in kubectl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from evolved_operator import api, api_llm, api_strategy, api_traffic, apidocs, cli, crd


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


def test_kubectl_get_shows_ready_stable_candidate_weights_and_age() -> None:
    columns = {c["name"]: c for c in version()["additionalPrinterColumns"]}
    shown = [c["name"] for c in version()["additionalPrinterColumns"] if c.get("priority", 0) == 0]
    assert shown == ["Ready", "Stable", "Candidate", "Weights", "Age"]
    assert columns["Weights"]["jsonPath"] == ".status.traffic.weights"
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


def test_the_cli_writes_the_crd_and_the_api_reference(tmp_path: Path) -> None:
    assert cli.main(["crd", "--output", str(tmp_path / "crd.yaml")]) == 0
    assert cli.main(["docs", "--output", str(tmp_path / "api.md")]) == 0
    assert (tmp_path / "crd.yaml").read_text() == crd.CRD_PATH.read_text()
    assert (tmp_path / "api.md").read_text() == apidocs.DOC_PATH.read_text()


def cel_rules(node: dict[str, Any]) -> list[dict[str, str]]:
    found = list(node.get("x-kubernetes-validations", []))
    for child in node.get("properties", {}).values():
        found += cel_rules(child)
    if "items" in node:
        found += cel_rules(node["items"])
    return found


def model_rules() -> set[tuple[str, str]]:
    out = set()
    for model in [
        *vars(api).values(),
        *vars(api_traffic).values(),
        *vars(api_strategy).values(),
        *vars(api_llm).values(),
    ]:
        if isinstance(model, type) and issubclass(model, BaseModel):
            out |= {(r.cel, r.message) for r in getattr(model, "cel_rules", ())}
    return out


def test_every_cross_field_rule_of_the_models_is_a_cel_rule_in_the_crd() -> None:
    in_crd = {(r["rule"], r["message"]) for r in cel_rules(version()["schema"]["openAPIV3Schema"])}
    assert in_crd == model_rules()
    assert len(in_crd) >= 15


def unbounded(node: dict[str, Any], path: str) -> list[str]:
    """Strings, lists and maps without a size bound (the apiserver's CEL cost estimate needs them)."""
    out = []
    kind = node.get("type")
    if kind == "string" and "maxLength" not in node and "enum" not in node:
        out.append(path)
    if kind == "array" and "maxItems" not in node:
        out.append(path)
    if kind == "object" and "additionalProperties" in node and "maxProperties" not in node:
        out.append(path)
    for name, child in node.get("properties", {}).items():
        out += unbounded(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out += unbounded(node[key], f"{path}[]")
    return out


def test_every_string_list_and_map_of_the_spec_is_bounded() -> None:
    spec = version()["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert unbounded(spec, ".spec") == []


def test_the_bound_walk_finds_an_unbounded_field() -> None:
    node = {"type": "object", "properties": {"a": {"type": "array", "maxItems": 1, "items": {"type": "string"}}}}
    assert unbounded(node, ".spec") == [".spec.a[]"]


def test_int_or_string_fields_use_the_kubernetes_marker() -> None:
    rolling = version()["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["rollingUpdate"]
    for name in ("maxSurge", "maxUnavailable"):
        assert rolling["properties"][name]["x-kubernetes-int-or-string"] is True
        assert "type" not in rolling["properties"][name]
