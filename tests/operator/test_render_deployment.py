"""The Deployment of a variant: the pod it runs, replicas, rollout and the pipeline-wide pod settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.render import PipelineInput, render_all

Objects = dict[tuple[str, str], Any]
TWO: dict[str, Any] = {"variants": [{"name": "stable", "replicas": 2}, {"name": "cand", "role": "candidate"}]}


def objects(doc: dict[str, Any] = TWO) -> Objects:
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), {})
    return {(o["kind"], o["metadata"]["name"]): o for o in render_all(p)}


def deployment(objs: Objects, variant: str = "stable") -> dict[str, Any]:
    return dict(objs[("Deployment", f"qa-{variant}")]["spec"])


def pod(objs: Objects, variant: str = "stable") -> dict[str, Any]:
    return dict(deployment(objs, variant)["template"])


def container(objs: Objects, variant: str = "stable") -> dict[str, Any]:
    return dict(pod(objs, variant)["spec"]["containers"][0])


def test_pods_run_restricted_as_uid_10001_with_only_tmp_writable() -> None:
    c = container(objects())
    assert c["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod(objects())["spec"]["securityContext"]["runAsNonRoot"] is True
    assert {m["mountPath"]: m.get("readOnly", False) for m in c["volumeMounts"]} == {
        "/etc/evolved": True,
        "/tmp": False,
    }
    assert {"name": "tmp", "emptyDir": {}} in pod(objects())["spec"]["volumes"]


def test_liveness_checks_health_and_readiness_checks_ready_on_the_named_http_port() -> None:
    c = container(objects())
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}


def test_the_config_and_programs_are_mounted_where_the_runtime_reads_them() -> None:
    doc = {"variants": [{"name": "stable", "programs": {"router": {"inline": "x"}, "profiles": {"inline": "y"}}}]}
    objs = objects(doc)
    volume = next(v for v in pod(objs)["spec"]["volumes"] if v["name"] == "config")["configMap"]
    assert volume["name"] == "qa-stable"
    assert volume["items"] == [
        {"key": "pipeline.json", "path": "pipeline.json"},
        {"key": "profiles.py", "path": "programs/profiles.py"},
        {"key": "router.py", "path": "programs/router.py"},
    ]  # mounted at /etc/evolved: /etc/evolved/pipeline.json, /etc/evolved/programs/<component>.py
    env = {e["name"]: e.get("value") for e in container(objs)["env"]}
    assert env["EVOLVED_CONFIG"] == "/etc/evolved/pipeline.json"


def test_the_pod_is_told_its_pipeline_variant_and_program_hash() -> None:
    env = {e["name"]: e.get("value") for e in container(objects(), "cand")["env"]}
    assert (env["EVOLVED_PIPELINE"], env["EVOLVED_VARIANT"]) == ("qa", "cand")
    assert len(env["EVOLVED_PROGRAM_HASH"]) == 16


def test_the_llm_key_reaches_the_pod_only_from_a_secret_key_ref() -> None:
    ref = {"name": "llm", "key": "token"}
    objs = objects(TWO | {"llm": {"baseURL": "https://x/v1", "model": "m", "apiKeySecretRef": ref}})
    for variant in ("stable", "cand"):
        key = [e for e in container(objs, variant)["env"] if e["name"] == "EVOLVED_LLM_API_KEY"]
        assert key == [{"name": "EVOLVED_LLM_API_KEY", "valueFrom": {"secretKeyRef": ref}}]


@pytest.mark.parametrize(
    ("variant", "replicas"),
    [({"name": "stable", "replicas": 3}, 3), ({"name": "stable"}, 1), ({"name": "stable", "replicas": 0}, 0)],
    ids=["three", "one by default", "zero"],
)
def test_a_fixed_replica_count_reaches_the_deployment(variant: dict[str, Any], replicas: int) -> None:
    assert deployment(objects({"variants": [variant]}))["replicas"] == replicas


def test_an_autoscaled_deployment_has_no_replica_count_so_the_hpa_owns_it() -> None:
    objs = objects({"variants": [{"name": "stable", "autoscaling": {"minReplicas": 2, "maxReplicas": 6}}]})
    assert "replicas" not in deployment(objs)


def test_the_rolling_update_reaches_every_variant() -> None:
    objs = objects(TWO | {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"}})
    for variant in ("stable", "cand"):
        assert deployment(objs, variant)["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"},
        }


def test_by_default_a_rollout_adds_pods_before_removing_any() -> None:
    assert deployment(objects())["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": 0}


Check = Callable[[dict[str, Any]], bool]
DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("pod", {"nodeSelector": {"disk": "ssd"}}, lambda p: p["spec"]["nodeSelector"] == {"disk": "ssd"}),
        ("pod", {"tolerations": [{"key": "gpu", "operator": "Equal", "value": "a100", "effect": "NoExecute", "tolerationSeconds": 30}]},
         lambda p: p["spec"]["tolerations"] == [{"key": "gpu", "operator": "Equal", "value": "a100", "effect": "NoExecute", "tolerationSeconds": 30}]),
        ("pod", {"affinity": {"nodeAffinity": {"x": 1}}}, lambda p: p["spec"]["affinity"] == {"nodeAffinity": {"x": 1}}),
        ("pod", {"labels": {"team": "ml"}}, lambda p: p["metadata"]["labels"]["team"] == "ml"),
        ("pod", {"annotations": {"a": "b"}}, lambda p: p["metadata"]["annotations"]["a"] == "b"),
        ("pod", {"serviceAccountName": "runner"}, lambda p: p["spec"]["serviceAccountName"] == "runner"),
        ("image", {"pullPolicy": "Always"}, lambda p: p["spec"]["containers"][0]["imagePullPolicy"] == "Always"),
        ("image", {"pullSecrets": ["reg", "reg2"]}, lambda p: p["spec"]["imagePullSecrets"] == [{"name": "reg"}, {"name": "reg2"}]),
        ("image", {"repository": "r/x", "tag": "9"}, lambda p: p["spec"]["containers"][0]["image"] == "r/x:9"),
        ("image", {"repository": "r/x", "tag": DIGEST}, lambda p: p["spec"]["containers"][0]["image"] == f"r/x@{DIGEST}"),
        ("image", {"reference": f"reg.local/r/x:1@{DIGEST}"}, lambda p: p["spec"]["containers"][0]["image"] == f"reg.local/r/x:1@{DIGEST}"),
    ],
    ids=["nodeSelector", "tolerations", "affinity", "labels", "annotations", "serviceAccountName",
         "pullPolicy", "pullSecrets", "image tag", "image digest", "full image reference"],
)  # fmt: skip
def test_pipeline_settings_reach_every_pod_template(field: str, value: Any, check: Check) -> None:
    objs = objects(TWO | {field: value})
    assert check(pod(objs, "stable"))
    assert check(pod(objs, "cand"))


def test_resources_and_env_reach_only_their_variants_container() -> None:
    doc = {
        "variants": [
            {"name": "stable", "env": [{"name": "MODE", "value": "x"}],
             "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}},
            {"name": "cand", "role": "candidate"},
        ]
    }  # fmt: skip
    objs = objects(doc)
    assert {"name": "MODE", "value": "x"} in container(objs)["env"]
    assert container(objs)["resources"] == {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}
    assert "MODE" not in {e["name"] for e in container(objs, "cand")["env"]}
    assert "resources" not in container(objs, "cand")
