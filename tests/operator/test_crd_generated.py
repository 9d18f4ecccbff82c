"""The committed CRD and API reference are exactly what the models generate."""

from __future__ import annotations

from typing import Any

import yaml

from evolved_operator import apidocs, crd


def test_the_committed_crd_matches_the_models() -> None:
    assert crd.CRD_PATH.read_text() == crd.render_yaml(), "crds/ is stale: run `make crd`"


def test_the_committed_api_reference_matches_the_models() -> None:
    assert apidocs.DOC_PATH.read_text() == apidocs.render(), "docs/api.md is stale: run `make crd`"


def test_the_crd_has_the_names_users_type_and_the_status_subresource() -> None:
    doc = yaml.safe_load(crd.CRD_PATH.read_text())
    names = doc["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"], names["categories"]) == (
        "EvolvedPipeline", "evolvedpipelines", ["evp"], ["evolved"],
    )  # fmt: skip
    version = doc["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]][:3] == ["Ready", "Stable", "Candidate"]


def _undocumented(node: dict[str, Any], path: str) -> list[str]:
    missing = []
    for name, child in node.get("properties", {}).items():
        where = f"{path}.{name}"
        if "description" not in child and not where.startswith(".status"):
            missing.append(where)
        missing += _undocumented(child, where)
    if "items" in node:
        missing += _undocumented(node["items"], path + "[]")
    return missing


def test_every_spec_field_has_a_description() -> None:
    schema = yaml.safe_load(crd.CRD_PATH.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _undocumented(schema["properties"]["spec"], ".spec") == []
