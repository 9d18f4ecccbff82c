"""The API models: wire names, defaults and the helpers the operator relies on."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from evolved_operator.api import EvolvedPipelineSpec, Image, Variant

MINIMAL: dict[str, Any] = {"variants": [{"name": "stable"}]}


def test_a_minimal_spec_gets_useful_defaults() -> None:
    s = EvolvedPipelineSpec.model_validate(MINIMAL)
    assert s.variants[0].role == "stable"
    assert s.variants[0].desired_replicas() == 1
    assert s.image.full_reference() == "evolved-pipelines/runtime:0.1.0"
    assert s.image.pull_policy == "IfNotPresent"
    assert (s.rolling_update.max_surge, s.rolling_update.max_unavailable) == ("25%", 0)
    assert (s.solver.timeout_ms, s.solver.memory_mb, s.solver.pool_size) == (2000, 512, 2)
    assert s.llm is None
    assert s.variants[0].programs.sources() == {}


def test_wire_names_are_camel_case_with_the_documented_acronyms() -> None:
    s = EvolvedPipelineSpec.model_validate(
        {
            "variants": [{"name": "stable", "autoscaling": {"maxReplicas": 3, "targetCPUUtilizationPercentage": 60}}],
            "llm": {"baseURL": "https://x/v1", "model": "m", "apiKeySecretRef": {"name": "s", "key": "k"}},
            "solver": {"memoryMB": 128, "timeoutMs": 50},
            "rollingUpdate": {"maxSurge": 2},
            "pod": {"serviceAccountName": "sa", "nodeSelector": {"a": "b"}},
        }
    )
    dumped = s.model_dump(by_alias=True, exclude_none=True)
    assert dumped["variants"][0]["autoscaling"]["targetCPUUtilizationPercentage"] == 60
    assert dumped["llm"]["baseURL"] == "https://x/v1"
    assert dumped["llm"]["apiKeySecretRef"] == {"name": "s", "key": "k"}
    assert dumped["solver"]["memoryMB"] == 128
    assert dumped["rollingUpdate"]["maxSurge"] == 2
    assert dumped["pod"]["serviceAccountName"] == "sa"


def test_a_round_trip_through_the_wire_form_is_lossless() -> None:
    s = EvolvedPipelineSpec.model_validate(
        {
            "variants": [
                {"name": "stable", "env": [{"name": "A", "value": "1"}], "programs": {"router": {"path": "/r.py"}}}
            ]
        }
    )
    assert EvolvedPipelineSpec.model_validate(s.model_dump(by_alias=True)) == s


@pytest.mark.parametrize(
    "doc",
    [
        {"variants": [{"name": "stable"}], "replicaCount": 2},
        {"variants": [{"name": "stable", "replica": 2}]},
        {"variants": [{"name": "stable"}], "llm": {"baseURL": "https://x", "model": "m", "apiKey": "sk-123"}},
    ],
    ids=["top level", "in a variant", "an inline API key"],
)
def test_unknown_fields_are_rejected(doc: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        EvolvedPipelineSpec.model_validate(doc)


@pytest.mark.parametrize(
    ("variant", "replicas"),
    [
        ({"name": "v"}, 1),
        ({"name": "v", "replicas": 0}, 0),
        ({"name": "v", "replicas": 4}, 4),
        ({"name": "v", "autoscaling": {"maxReplicas": 9}}, 1),
        ({"name": "v", "autoscaling": {"minReplicas": 3, "maxReplicas": 9}}, 3),
    ],
)
def test_desired_replicas(variant: dict[str, Any], replicas: int) -> None:
    assert Variant.model_validate(variant).desired_replicas() == replicas


def test_the_stable_and_candidate_variants_are_found_by_role() -> None:
    s = EvolvedPipelineSpec.model_validate(
        {"variants": [{"name": "a", "role": "candidate"}, {"name": "b"}, {"name": "c", "role": "candidate"}]}
    )
    assert s.stable().name == "b"
    assert [v.name for v in s.candidates()] == ["a", "c"]


DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("image", "reference"),
    [
        ({"repository": "repo/x", "tag": "1.2.3"}, "repo/x:1.2.3"),
        ({"repository": "repo/x", "tag": DIGEST}, f"repo/x@{DIGEST}"),
        ({"repository": "registry.local:5000/repo/x"}, "registry.local:5000/repo/x:0.1.0"),
        ({"tag": "2.0"}, "evolved-pipelines/runtime:2.0"),
        ({"reference": f"registry.local/evolved/runtime:1.2@{DIGEST}"}, f"registry.local/evolved/runtime:1.2@{DIGEST}"),
    ],
    ids=["tag", "digest", "registry with a port, default tag", "default repository", "full reference"],
)
def test_the_image_is_a_full_reference_or_a_repository_with_a_tag_or_digest(
    image: dict[str, Any], reference: str
) -> None:
    assert Image.model_validate(image).full_reference() == reference


def test_program_sources_are_listed_in_component_order() -> None:
    v = Variant.model_validate({"name": "v", "programs": {"profiles": {"path": "/p.py"}, "router": {"inline": "x"}}})
    assert list(v.programs.sources()) == ["router", "profiles"]


def test_a_validation_error_names_the_field() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        EvolvedPipelineSpec.model_validate({"variants": [{"name": "stable", "replicas": -1}]})
    assert caught.value.errors()[0]["loc"] == ("variants", 0, "replicas")


RULES = {
    "two stable variants": (
        {"variants": [{"name": "a"}, {"name": "b"}]},
        "exactly one variant must have role stable",
    ),
    "duplicate variant names": (
        {"variants": [{"name": "a"}, {"name": "a", "role": "candidate"}]},
        "variant names must be unique",
    ),
    "replicas with autoscaling": (
        {"variants": [{"name": "a", "replicas": 2, "autoscaling": {"maxReplicas": 3}}]},
        "set replicas or autoscaling, not both",
    ),
    "a program with two sources": (
        {"variants": [{"name": "a", "programs": {"router": {"inline": "x", "path": "/r.py"}}}]},
        "set exactly one of inline, configMapKeyRef or path",
    ),
    "a request above its limit": (
        {"variants": [{"name": "a", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "999m"}}}]},
        "resources.requests.cpu must not exceed resources.limits.cpu",
    ),
    "both rollout budgets zero": (
        {"variants": [{"name": "a"}], "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 0}},
        "maxSurge and maxUnavailable must not both be zero",
    ),
}


@pytest.mark.parametrize(("doc", "message"), list(RULES.values()), ids=list(RULES))
def test_the_models_enforce_the_cel_rules_with_the_same_message(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        EvolvedPipelineSpec.model_validate(doc)


@pytest.mark.parametrize(
    ("resources", "fine"),
    [
        ({"requests": {"cpu": "500m"}, "limits": {"cpu": "0.5"}}, True),
        ({"requests": {"memory": "1Gi"}, "limits": {"memory": "1073741824"}}, True),
        ({"requests": {"memory": "1G"}, "limits": {"memory": "1Gi"}}, True),
        ({"requests": {"memory": "1Gi"}, "limits": {"memory": "1G"}}, False),
        ({"requests": {"cpu": "2"}}, True),
    ],
    ids=["equal in other units", "bytes", "decimal below binary", "binary above decimal", "no limit"],
)
def test_requests_compare_to_limits_as_quantities(resources: dict[str, Any], fine: bool) -> None:
    doc = {"variants": [{"name": "a", "resources": resources}]}
    if fine:
        EvolvedPipelineSpec.model_validate(doc)
    else:
        with pytest.raises(pydantic.ValidationError, match="must not exceed"):
            EvolvedPipelineSpec.model_validate(doc)
