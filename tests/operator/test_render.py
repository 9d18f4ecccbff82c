"""Pure builders: what the operator asks Kubernetes for, from a spec and its resolved programs."""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from evolved_operator.api import COMPONENTS, EvolvedPipelineSpec
from evolved_operator.constants import (
    ANNOTATION_CONTENT_HASH,
    ANNOTATION_PROGRAM_HASH,
    LABEL_MANAGED_BY,
    LABEL_PIPELINE,
    LABEL_VARIANT,
)
from evolved_operator.render import Owner, render_all
from evolved_operator.status import compute_status
from evolved_runtime.config import PipelineConfig

OWNER = Owner(name="qa", namespace="ns", uid="uid-1")
Objects = dict[tuple[str, str], Any]


def spec(**extra: Any) -> EvolvedPipelineSpec:
    base: dict[str, Any] = {
        "variants": [{"name": "stable", "role": "stable", "replicas": 2}, {"name": "cand", "role": "candidate"}]
    }
    base.update(extra)
    return EvolvedPipelineSpec.model_validate(base)


def objects(s: EvolvedPipelineSpec, programs: dict[str, dict[str, str]] | None = None) -> Objects:
    return {(o["kind"], o["metadata"]["name"]): o for o in render_all(OWNER, s, programs or {}).objects}


def pod(objs: Objects, variant: str = "stable") -> dict[str, Any]:
    return dict(objs[("Deployment", f"qa-{variant}")]["spec"]["template"])


def container(objs: Objects, variant: str = "stable") -> dict[str, Any]:
    return dict(pod(objs, variant)["spec"]["containers"][0])


def config(objs: Objects, variant: str = "stable") -> PipelineConfig:
    return PipelineConfig.model_validate_json(objs[("ConfigMap", f"qa-{variant}")]["data"]["pipeline.json"])


# -- identity and ownership ---------------------------------------------------------------------


def test_every_object_is_owned_by_the_pipeline_and_labelled() -> None:
    s = spec(variants=[{"name": "stable", "role": "stable", "autoscaling": {"maxReplicas": 3}}])
    objs = objects(s)
    assert {kind for kind, _ in objs} == {
        "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
    }  # fmt: skip
    for obj in objs.values():
        meta = obj["metadata"]
        assert meta["namespace"] == "ns"
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "pipelines.evolved.io/v1alpha1",
                "kind": "EvolvedPipeline",
                "name": "qa",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert meta["labels"][LABEL_MANAGED_BY] == "evolved-operator"
        assert meta["labels"][LABEL_PIPELINE] == "qa"


def test_each_variant_gets_a_configmap_deployment_service_and_disruption_budget() -> None:
    objs = objects(spec())
    for variant in ("stable", "cand"):
        for kind in ("ConfigMap", "Deployment", "Service", "PodDisruptionBudget"):
            assert (kind, f"qa-{variant}") in objs
    assert ("Service", "qa") in objs
    assert not any(kind == "HorizontalPodAutoscaler" for kind, _ in objs)


def test_the_disruption_budget_evicts_one_pod_of_its_variant_at_a_time() -> None:
    pdb = objects(spec())[("PodDisruptionBudget", "qa-cand")]["spec"]
    assert pdb == {"maxUnavailable": 1, "selector": {"matchLabels": {LABEL_PIPELINE: "qa", LABEL_VARIANT: "cand"}}}


def test_the_deployment_selector_matches_its_pod_labels() -> None:
    deployment = objects(spec())[("Deployment", "qa-cand")]["spec"]
    selector = deployment["selector"]["matchLabels"]
    assert selector == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "cand"}
    assert selector.items() <= deployment["template"]["metadata"]["labels"].items()


# -- hashes -------------------------------------------------------------------------------------


def content_hash_of(objs: Objects, variant: str) -> str:
    return str(pod(objs, variant)["metadata"]["annotations"][ANNOTATION_CONTENT_HASH])


def test_a_program_change_rolls_only_its_variant() -> None:
    before = objects(spec(), {"stable": {"router": "v1"}, "cand": {"router": "v1"}})
    after = objects(spec(), {"stable": {"router": "v2"}, "cand": {"router": "v1"}})
    assert content_hash_of(before, "stable") != content_hash_of(after, "stable")
    assert content_hash_of(before, "cand") == content_hash_of(after, "cand")


def test_a_program_change_changes_its_variants_program_hash_only() -> None:
    before = render_all(OWNER, spec(), {"stable": {"router": "v1"}, "cand": {"router": "v1"}})
    after = render_all(OWNER, spec(), {"stable": {"router": "v2"}, "cand": {"router": "v1"}})
    assert before.program_hashes["stable"] != after.program_hashes["stable"]
    assert before.program_hashes["cand"] == after.program_hashes["cand"]


def test_the_program_hash_is_announced_on_the_pod_and_in_its_environment() -> None:
    rendered = render_all(OWNER, spec(), {"stable": {"router": "v1"}})
    objs = {(o["kind"], o["metadata"]["name"]): o for o in rendered.objects}
    env = {e["name"]: e.get("value") for e in container(objs)["env"]}
    assert pod(objs)["metadata"]["annotations"][ANNOTATION_PROGRAM_HASH] == rendered.program_hashes["stable"]
    assert env["EVOLVED_PROGRAM_HASH"] == rendered.program_hashes["stable"]


def test_a_setting_change_rolls_pods_but_keeps_the_program_hash() -> None:
    before = render_all(OWNER, spec(), {"stable": {"router": "v1"}})
    after = render_all(OWNER, spec(solver={"timeoutMs": 5000}), {"stable": {"router": "v1"}})
    hashes = [
        content_hash_of({(o["kind"], o["metadata"]["name"]): o for o in r.objects}, "stable") for r in (before, after)
    ]
    assert hashes[0] != hashes[1]
    assert before.program_hashes == after.program_hashes


def test_rendering_is_deterministic() -> None:
    programs = {"stable": {"router": "a", "profiles": "b"}}
    assert render_all(OWNER, spec(), programs) == render_all(OWNER, spec(), copy.deepcopy(programs))


# -- replicas and autoscaling -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "replicas"),
    [
        ({"name": "stable", "replicas": 3}, 3),
        ({"name": "stable"}, 1),
        ({"name": "stable", "replicas": 0}, 0),
    ],
)
def test_a_fixed_replica_count_reaches_the_deployment(variant: dict[str, Any], replicas: int) -> None:
    assert objects(spec(variants=[variant]))[("Deployment", "qa-stable")]["spec"]["replicas"] == replicas


def test_autoscaling_gives_an_hpa_on_the_deployment_and_leaves_replicas_to_it() -> None:
    s = spec(variants=[{"name": "stable", "role": "stable", "autoscaling": {"minReplicas": 2, "maxReplicas": 6}}])
    objs = objects(s)
    assert "replicas" not in objs[("Deployment", "qa-stable")]["spec"]
    hpa = objs[("HorizontalPodAutoscaler", "qa-stable")]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qa-stable"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)


CPU = "Resource"
PODS = "Pods"


@pytest.mark.parametrize(
    ("autoscaling", "expected"),
    [
        ({"maxReplicas": 4}, [(CPU, 80)]),
        ({"maxReplicas": 4, "targetCPUUtilizationPercentage": 55}, [(CPU, 55)]),
        ({"maxReplicas": 4, "targetRequestsPerSecond": 50}, [(PODS, "50")]),
        ({"maxReplicas": 4, "targetCPUUtilizationPercentage": 70, "targetRequestsPerSecond": 9}, [(CPU, 70), (PODS, "9")]),
    ],
    ids=["cpu 80 by default", "cpu target", "requests per second only", "both targets"],
)  # fmt: skip
def test_hpa_metrics_follow_the_targets(autoscaling: dict[str, Any], expected: list[tuple[str, Any]]) -> None:
    s = spec(variants=[{"name": "stable", "autoscaling": autoscaling}])
    metrics = objects(s)[("HorizontalPodAutoscaler", "qa-stable")]["spec"]["metrics"]
    seen = []
    for m in metrics:
        if m["type"] == CPU:
            assert m["resource"]["name"] == "cpu"
            assert m["resource"]["target"]["type"] == "Utilization"
            seen.append((CPU, m["resource"]["target"]["averageUtilization"]))
        else:
            assert m["pods"]["metric"] == {"name": "evolved_requests_per_second"}
            assert m["pods"]["target"]["type"] == "AverageValue"
            seen.append((PODS, m["pods"]["target"]["averageValue"]))
    assert seen == expected


# -- secrets and runtime config -----------------------------------------------------------------


def test_the_llm_key_is_only_a_secret_reference_never_in_the_configmap() -> None:
    ref = {"name": "llm-credentials-4d1e", "key": "api-key-7f3a"}
    s = spec(llm={"baseURL": "https://llm.example/v1", "model": "m", "apiKeySecretRef": ref})
    objs = objects(s)
    env = {e["name"]: e for e in container(objs)["env"]}
    assert env["EVOLVED_LLM_API_KEY"] == {"name": "EVOLVED_LLM_API_KEY", "valueFrom": {"secretKeyRef": ref}}
    assert config(objs).llm is not None
    assert config(objs).llm.api_key_env == "EVOLVED_LLM_API_KEY"  # type: ignore[union-attr]
    for obj in objs.values():
        if obj["kind"] == "ConfigMap":
            data = json.dumps(obj["data"])
            assert ref["name"] not in data, "the ConfigMap must not name the Secret"
            assert ref["key"] not in data, "the ConfigMap must not name the Secret's key"


def test_without_a_key_secret_no_key_variable_is_set() -> None:
    objs = objects(spec(llm={"baseURL": "https://llm.example/v1", "model": "m"}))
    assert "EVOLVED_LLM_API_KEY" not in {e["name"] for e in container(objs)["env"]}
    assert config(objs).llm is not None
    assert config(objs).llm.api_key_env is None  # type: ignore[union-attr]


@pytest.mark.parametrize("variant", ["stable", "cand"])
def test_the_configmap_holds_a_valid_runtime_config_named_for_its_variant(variant: str) -> None:
    s = spec(llm={"baseURL": "https://llm.example/v1", "model": "small", "timeoutSeconds": 12})
    cfg = config(objects(s), variant)
    assert (cfg.pipeline, cfg.variant, cfg.model_name) == ("qa", variant, "qa")
    assert cfg.llm is not None
    assert (cfg.llm.base_url, cfg.llm.model, cfg.llm.timeout_s) == ("https://llm.example/v1", "small", 12)


def test_solver_limits_reach_the_runtime_config() -> None:
    cfg = config(objects(spec(solver={"timeoutMs": 900, "memoryMB": 256, "poolSize": 3})))
    assert (cfg.solver.timeout_ms, cfg.solver.memory_mb, cfg.solver.pool_size) == (900, 256, 3)


def test_programs_are_mounted_and_image_paths_are_passed_to_the_runtime() -> None:
    s = spec(variants=[{"name": "stable", "programs": {"profiles": {"path": "/opt/p/profiles.py"}}}])
    objs = objects(s, {"stable": {"router": "def route(p, c): ..."}})
    data = objs[("ConfigMap", "qa-stable")]["data"]
    assert data["router.py"] == "def route(p, c): ..."
    cfg = config(objs)
    assert cfg.programs_dir == "/etc/evolved/programs"
    assert cfg.program_paths == {"profiles": "/opt/p/profiles.py"}
    volume = next(v for v in pod(objs)["spec"]["volumes"] if v["name"] == "config")
    assert {"key": "router.py", "path": "programs/router.py"} in volume["configMap"]["items"]


def test_without_programs_the_runtime_uses_its_defaults() -> None:
    cfg = config(objects(spec()))
    assert (cfg.programs_dir, cfg.program_paths) == (None, {})


# -- the pod ------------------------------------------------------------------------------------


def test_pods_run_restricted_with_probes_and_a_writable_tmp_only() -> None:
    objs = objects(spec())
    c = container(objs)
    security = c["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod(objs)["spec"]["securityContext"]["runAsNonRoot"] is True
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {p["name"] for p in c["ports"]} == {c["readinessProbe"]["httpGet"]["port"]}
    assert {m["mountPath"]: m.get("readOnly", False) for m in c["volumeMounts"]} == {
        "/etc/evolved": True,
        "/tmp": False,
    }


def test_the_entry_service_spans_every_variant_and_variant_services_one() -> None:
    objs = objects(spec())
    assert objs[("Service", "qa")]["spec"]["selector"] == {LABEL_PIPELINE: "qa"}
    assert objs[("Service", "qa-stable")]["spec"]["selector"] == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "stable"}
    assert objs[("Service", "qa-cand")]["spec"]["selector"] == {LABEL_PIPELINE: "qa", LABEL_VARIANT: "cand"}


Check = Callable[[dict[str, Any]], bool]


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
        ("image", {"repository": "r/x", "tag": "sha256:" + "a" * 64}, lambda p: p["spec"]["containers"][0]["image"] == "r/x@sha256:" + "a" * 64),
    ],
    ids=["nodeSelector", "tolerations", "affinity", "labels", "annotations", "serviceAccountName",
         "pullPolicy", "pullSecrets", "image tag", "image digest"],
)  # fmt: skip
def test_pipeline_settings_reach_every_pod_template(field: str, value: Any, check: Check) -> None:
    objs = objects(spec(**{field: value}))
    assert check(pod(objs, "stable"))
    assert check(pod(objs, "cand"))


def test_pod_labels_cannot_override_the_selector_labels() -> None:
    objs = objects(spec(pod={"labels": {LABEL_VARIANT: "other", LABEL_PIPELINE: "other"}}))
    labels = pod(objs, "cand")["metadata"]["labels"]
    assert (labels[LABEL_PIPELINE], labels[LABEL_VARIANT]) == ("qa", "cand")


def test_resources_and_env_reach_only_their_variants_container() -> None:
    s = spec(
        variants=[
            {"name": "stable", "env": [{"name": "MODE", "value": "x"}],
             "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}},
            {"name": "cand", "role": "candidate"},
        ]
    )  # fmt: skip
    objs = objects(s)
    assert {"name": "MODE", "value": "x"} in container(objs)["env"]
    assert container(objs)["resources"] == {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}
    assert "MODE" not in {e["name"] for e in container(objs, "cand")["env"]}
    assert "resources" not in container(objs, "cand")


def test_rolling_update_reaches_every_strategy() -> None:
    objs = objects(spec(rollingUpdate={"maxSurge": 1, "maxUnavailable": "10%"}))
    for variant in ("stable", "cand"):
        strategy = objs[("Deployment", f"qa-{variant}")]["spec"]["strategy"]
        assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"}}


# -- every field does something -----------------------------------------------------------------

FULL: dict[str, Any] = {
    "image": {"repository": "r/runtime", "tag": "1.0", "pullPolicy": "IfNotPresent", "pullSecrets": ["reg"]},
    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
    "llm": {
        "provider": "openai",
        "baseURL": "https://llm.example/v1",
        "model": "small",
        "apiKeySecretRef": {"name": "llm", "key": "token"},
        "timeoutSeconds": 30,
    },
    "solver": {"timeoutMs": 2000, "memoryMB": 512, "poolSize": 2},
    "pod": {
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [
            {"key": "gpu", "operator": "Equal", "value": "a", "effect": "NoExecute", "tolerationSeconds": 5}
        ],
        "affinity": {"nodeAffinity": {}},
        "labels": {"team": "ml"},
        "annotations": {"note": "x"},
        "serviceAccountName": "runner",
    },
    "variants": [
        {
            "name": "stable",
            "role": "stable",
            "replicas": 2,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "env": [{"name": "MODE", "value": "a"}],
            "programs": {
                "router": {"inline": "def route(p, c): return 1"},
                "translation": {"configMapKeyRef": {"name": "progs", "key": "translation.py", "sha256": "a" * 64}},
                "profiles": {"path": "/opt/p/profiles.py"},
            },
        },
        {
            "name": "cand",
            "role": "candidate",
            "autoscaling": {
                "minReplicas": 1,
                "maxReplicas": 4,
                "targetCPUUtilizationPercentage": 70,
                "targetRequestsPerSecond": 10,
            },
        },
    ],
}

SOURCES: dict[str, tuple[Any, str, Any]] = {  # program source field -> (a source, the field's path in it, new value)
    "inline": ({"inline": "def f(): return 1"}, "inline", "def f(): return 2"),
    "configMapKeyRef.name": ({"configMapKeyRef": {"name": "progs", "key": "p.py"}}, "configMapKeyRef.name", "other"),
    "configMapKeyRef.key": ({"configMapKeyRef": {"name": "progs", "key": "p.py"}}, "configMapKeyRef.key", "q.py"),
    "configMapKeyRef.sha256": ({"configMapKeyRef": {"name": "progs", "key": "p.py", "sha256": "a" * 64}},
                               "configMapKeyRef.sha256", "b" * 64),
    "path": ({"path": "/opt/p/one.py"}, "path", "/opt/p/two.py"),
}  # fmt: skip

# Leaf field (as the walker names it) -> (where to change it in FULL, the new value, set first in both).
Change = tuple[str, Any, dict[str, Any]]
CHANGES: dict[str, Change] = {
    **{
        f"variants[].programs.{component}.{field}": (
            f"variants[1].programs.{component}.{where}",
            value,
            {f"variants[1].programs.{component}": source},
        )
        for component in COMPONENTS
        for field, (source, where, value) in SOURCES.items()
    },
    "image.repository": ("image.repository", "r/other", {}),
    "image.tag": ("image.tag", "2.0", {}),
    "image.pullPolicy": ("image.pullPolicy", "Always", {}),
    "image.pullSecrets": ("image.pullSecrets", ["reg", "reg2"], {}),
    "variants[].name": ("variants[1].name", "canary", {}),
    "variants[].role": ("variants[1].role", "stable", {"variants[0].role": "candidate"}),
    "variants[].replicas": ("variants[0].replicas", 3, {}),
    "variants[].autoscaling.minReplicas": ("variants[1].autoscaling.minReplicas", 2, {}),
    "variants[].autoscaling.maxReplicas": ("variants[1].autoscaling.maxReplicas", 5, {}),
    "variants[].autoscaling.targetCPUUtilizationPercentage": (
        "variants[1].autoscaling.targetCPUUtilizationPercentage",
        50,
        {},
    ),
    "variants[].autoscaling.targetRequestsPerSecond": ("variants[1].autoscaling.targetRequestsPerSecond", 20, {}),
    "variants[].resources.requests.cpu": ("variants[0].resources.requests.cpu", "200m", {}),
    "variants[].resources.requests.memory": ("variants[0].resources.requests.memory", "256Mi", {}),
    "variants[].resources.limits.cpu": ("variants[0].resources.limits.cpu", "2", {}),
    "variants[].resources.limits.memory": ("variants[0].resources.limits.memory", "2Gi", {}),
    "variants[].env[].name": ("variants[0].env[0].name", "MODE2", {}),
    "variants[].env[].value": ("variants[0].env[0].value", "b", {}),
    "rollingUpdate.maxSurge": ("rollingUpdate.maxSurge", 1, {}),
    "rollingUpdate.maxUnavailable": ("rollingUpdate.maxUnavailable", "10%", {}),
    "llm.provider": ("llm.provider", None, {}),  # a single allowed value: nothing to change to
    "llm.baseURL": ("llm.baseURL", "https://other.example/v1", {}),
    "llm.model": ("llm.model", "large", {}),
    "llm.apiKeySecretRef.name": ("llm.apiKeySecretRef.name", "other", {}),
    "llm.apiKeySecretRef.key": ("llm.apiKeySecretRef.key", "other", {}),
    "llm.timeoutSeconds": ("llm.timeoutSeconds", 45, {}),
    "solver.timeoutMs": ("solver.timeoutMs", 3000, {}),
    "solver.memoryMB": ("solver.memoryMB", 1024, {}),
    "solver.poolSize": ("solver.poolSize", 4, {}),
    "pod.nodeSelector": ("pod.nodeSelector", {"disk": "hdd"}, {}),
    "pod.tolerations[].key": ("pod.tolerations[0].key", "tpu", {}),
    "pod.tolerations[].operator": ("pod.tolerations[0].operator", "Exists", {}),
    "pod.tolerations[].value": ("pod.tolerations[0].value", "b", {}),
    "pod.tolerations[].effect": ("pod.tolerations[0].effect", "NoSchedule", {}),
    "pod.tolerations[].tolerationSeconds": ("pod.tolerations[0].tolerationSeconds", 60, {}),
    "pod.affinity": ("pod.affinity", {"podAntiAffinity": {}}, {}),
    "pod.labels": ("pod.labels", {"team": "ops"}, {}),
    "pod.annotations": ("pod.annotations", {"note": "y"}, {}),
    "pod.serviceAccountName": ("pod.serviceAccountName", "other", {}),
}

# Fields whose effect is not in the rendered objects, each with where it shows instead.
EFFECT_ELSEWHERE = {
    **{
        f"variants[].programs.{c}.configMapKeyRef.sha256": "a pin mismatch stalls in inputs.resolve_inputs "
        "(ProgramDigestMismatch; tests/cluster/test_operator.py)"
        for c in COMPONENTS
    },
    "llm.provider": "one allowed value (`openai`) today: there is no other value to set",
    "variants[].role": "reported as status.stable / status.candidate (checked below)",
}


def leaf_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted wire names of every leaf field; lists of models recurse into ``[]``."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        wire = info.alias or name
        path = f"{prefix}{wire}"
        inner = _model_in(info.annotation)
        if inner is not None and inner[0] is not None:
            out += leaf_fields(inner[0], path + ("[]." if inner[1] else "."))
        else:
            out.append(path)
    return out


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool] | None:
    """(model, is_list) when the annotation is a model, an optional model or a list of models."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        found = _model_in(args[0])
        return (found[0], True) if found else None
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return (models[0], False) if models else None
    return None


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = [p for p in re.split(r"\.|\[(\d+)\]", path) if p]
    node: Any = doc
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value


def configmap_store(name: str, key: str) -> str:
    """Stands for the ConfigMaps of the namespace: every name/key holds its own source."""
    return f"# source of {name}/{key}"


def resolve(s: EvolvedPipelineSpec) -> dict[str, dict[str, str]]:
    """What inputs.resolve_inputs reads from the cluster, from an in-memory ConfigMap store."""
    programs: dict[str, dict[str, str]] = {}
    for v in s.variants:
        found = programs.setdefault(v.name, {})
        for component, source in v.programs.sources().items():
            if source.inline is not None:
                found[component] = source.inline
            elif source.config_map_key_ref is not None:
                ref = source.config_map_key_ref
                found[component] = configmap_store(ref.name, ref.key)
    return programs


def output(doc: dict[str, Any]) -> str:
    s = EvolvedPipelineSpec.model_validate(doc)
    return json.dumps(render_all(OWNER, s, resolve(s)).objects, sort_keys=True)


def test_the_field_table_covers_every_leaf_field_of_the_spec() -> None:
    leaves = set(leaf_fields(EvolvedPipelineSpec))
    assert leaves - set(CHANGES) == set(), "add the new field to CHANGES (and to FULL)"
    assert set(CHANGES) - leaves == set(), "CHANGES names fields the spec no longer has"


def test_every_field_of_the_spec_changes_what_is_rendered() -> None:
    inert = []
    for leaf, (where, value, setup) in CHANGES.items():
        if leaf in EFFECT_ELSEWHERE:
            continue
        before = copy.deepcopy(FULL)
        for path, first in setup.items():
            set_path(before, path, first)
        after = copy.deepcopy(before)
        set_path(after, where, value)
        if output(after) == output(before):
            inert.append(leaf)
    assert inert == [], f"these fields change nothing the operator renders: {inert}"


def test_the_role_of_a_variant_shows_in_the_status() -> None:
    doc = copy.deepcopy(FULL)
    set_path(doc, "variants[0].role", "candidate")
    set_path(doc, "variants[1].role", "stable")
    statuses = [
        compute_status(OWNER, EvolvedPipelineSpec.model_validate(d), 1, {}, {}, [], {}, "T") for d in (FULL, doc)
    ]
    assert [(s["stable"], s["candidate"]) for s in statuses] == [("stable", "cand"), ("cand", "stable")]
    assert [v["role"] for v in statuses[1]["variants"]] == ["candidate", "stable"]


def test_the_full_spec_used_above_renders_every_kind_of_setting() -> None:
    """Guards the table: each change above starts from a spec where that field is set."""
    s = EvolvedPipelineSpec.model_validate(FULL)
    assert s.llm is not None
    assert s.llm.api_key_secret_ref is not None
    assert s.variants[1].autoscaling is not None
    assert set(s.variants[0].programs.sources()) == {"router", "translation", "profiles"}
