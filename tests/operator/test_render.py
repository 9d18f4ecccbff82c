"""Pure builders: what the operator asks Kubernetes for, from a spec and its resolved programs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.constants import ANNOTATION_CONTENT_HASH, LABEL_MANAGED_BY, LABEL_PIPELINE, LABEL_VARIANT
from evolved_operator.render import Owner, render_all
from evolved_runtime.config import PipelineConfig

OWNER = Owner(name="qa", namespace="ns", uid="uid-1")


def spec(**extra: Any) -> EvolvedPipelineSpec:
    base: dict[str, Any] = {
        "variants": [{"name": "stable", "role": "stable", "replicas": 2}, {"name": "cand", "role": "candidate"}]
    }
    base.update(extra)
    return EvolvedPipelineSpec.model_validate(base)


def objects(s: EvolvedPipelineSpec, programs: dict[str, dict[str, str]] | None = None) -> dict[tuple[str, str], Any]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render_all(OWNER, s, programs or {}).objects}


def pod(objs: dict[tuple[str, str], Any], variant: str = "stable") -> dict[str, Any]:
    return dict(objs[("Deployment", f"qa-{variant}")]["spec"]["template"])


def test_every_object_is_owned_by_the_pipeline_and_labelled() -> None:
    for obj in objects(spec()).values():
        meta = obj["metadata"]
        assert meta["ownerReferences"] == [OWNER.reference()]
        assert meta["ownerReferences"][0]["controller"] is True
        assert meta["labels"][LABEL_MANAGED_BY] == "evolved-operator"
        assert meta["labels"][LABEL_PIPELINE] == "qa"


def test_a_program_change_rolls_only_its_variant() -> None:
    before = objects(spec(), {"stable": {"router": "v1"}, "cand": {"router": "v1"}})
    after = objects(spec(), {"stable": {"router": "v2"}, "cand": {"router": "v1"}})
    hash_of = lambda o, v: pod(o, v)["metadata"]["annotations"][ANNOTATION_CONTENT_HASH]  # noqa: E731
    assert hash_of(before, "stable") != hash_of(after, "stable")
    assert hash_of(before, "cand") == hash_of(after, "cand")


def test_autoscaling_gives_an_hpa_and_leaves_replicas_to_it() -> None:
    s = spec(variants=[{"name": "stable", "role": "stable", "autoscaling": {"minReplicas": 2, "maxReplicas": 6}}])
    objs = objects(s)
    assert "replicas" not in objs[("Deployment", "qa-stable")]["spec"]
    hpa = objs[("HorizontalPodAutoscaler", "qa-stable")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "qa-stable"
    assert hpa["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}
    ]


def test_a_requests_per_second_target_becomes_a_pods_metric() -> None:
    s = spec(
        variants=[
            {"name": "stable", "role": "stable", "autoscaling": {"maxReplicas": 4, "targetRequestsPerSecond": 50}}
        ]
    )
    metrics = objects(s)[("HorizontalPodAutoscaler", "qa-stable")]["spec"]["metrics"]
    assert metrics == [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "evolved_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": "50"},
            },
        }
    ]


def test_the_llm_key_is_only_a_secret_reference_never_in_the_configmap() -> None:
    s = spec(llm={"baseURL": "https://llm.example/v1", "model": "m", "apiKeySecretRef": {"name": "k", "key": "token"}})
    objs = objects(s)
    env = {e["name"]: e for e in pod(objs)["spec"]["containers"][0]["env"]}
    assert env["EVOLVED_LLM_API_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "k", "key": "token"}}
    config = PipelineConfig.model_validate_json(objs[("ConfigMap", "qa-stable")]["data"]["pipeline.json"])
    assert config.llm is not None
    assert config.llm.api_key_env == "EVOLVED_LLM_API_KEY"
    assert (config.pipeline, config.variant) == ("qa", "stable")


def test_pods_run_restricted_with_probes_and_a_writable_tmp_only() -> None:
    container = pod(objects(spec()))["spec"]["containers"][0]
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/etc/evolved", "/tmp"}


def test_the_entry_service_spans_every_variant_and_variant_services_one() -> None:
    objs = objects(spec())
    assert objs[("Service", "qa")]["spec"]["selector"] == {LABEL_PIPELINE: "qa"}
    assert objs[("Service", "qa-cand")]["spec"]["selector"] == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "cand"}


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("pod", {"nodeSelector": {"disk": "ssd"}}, lambda p: p["spec"]["nodeSelector"] == {"disk": "ssd"}),
        ("pod", {"tolerations": [{"key": "gpu", "operator": "Exists"}]}, lambda p: p["spec"]["tolerations"] == [{"key": "gpu", "operator": "Exists"}]),
        ("pod", {"affinity": {"nodeAffinity": {}}}, lambda p: p["spec"]["affinity"] == {"nodeAffinity": {}}),
        ("pod", {"labels": {"team": "ml"}}, lambda p: p["metadata"]["labels"]["team"] == "ml"),
        ("pod", {"annotations": {"a": "b"}}, lambda p: p["metadata"]["annotations"]["a"] == "b"),
        ("pod", {"serviceAccountName": "runner"}, lambda p: p["spec"]["serviceAccountName"] == "runner"),
        ("image", {"repository": "r/x", "tag": "9", "pullPolicy": "Always", "pullSecrets": ["reg"]},
         lambda p: (p["spec"]["containers"][0]["image"], p["spec"]["containers"][0]["imagePullPolicy"], p["spec"]["imagePullSecrets"]) == ("r/x:9", "Always", [{"name": "reg"}])),
    ],
)  # fmt: skip
def test_pipeline_settings_reach_the_pod_template(field: str, value: Any, where: Any) -> None:
    assert where(pod(objects(spec(**{field: value}))))


def test_variant_settings_reach_the_container_and_the_strategy() -> None:
    s = spec(
        rollingUpdate={"maxSurge": 1, "maxUnavailable": "10%"},
        variants=[{"name": "stable", "role": "stable", "replicas": 3, "env": [{"name": "MODE", "value": "x"}],
                   "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}}],
    )  # fmt: skip
    deployment = objects(s)[("Deployment", "qa-stable")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": "10%"}
    assert {"name": "MODE", "value": "x"} in container["env"]
    assert container["resources"] == {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}


def test_programs_are_mounted_and_image_paths_are_passed_to_the_runtime() -> None:
    s = spec(variants=[{"name": "stable", "role": "stable", "programs": {"profiles": {"path": "/opt/p/profiles.py"}}}])
    objs = objects(s, {"stable": {"router": "def route(p, c): ..."}})
    data = objs[("ConfigMap", "qa-stable")]["data"]
    assert data["router.py"] == "def route(p, c): ..."
    config = json.loads(data["pipeline.json"])
    assert config["programs_dir"] == "/etc/evolved/programs"
    assert config["program_paths"] == {"profiles": "/opt/p/profiles.py"}


def test_solver_limits_reach_the_runtime_config() -> None:
    objs = objects(spec(solver={"timeoutMs": 900, "memoryMB": 256, "poolSize": 3}))
    config = json.loads(objs[("ConfigMap", "qa-stable")]["data"]["pipeline.json"])
    assert config["solver"] == {"timeout_ms": 900, "memory_mb": 256, "pool_size": 3}
