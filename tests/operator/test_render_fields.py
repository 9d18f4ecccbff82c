"""Every field of the spec does something: changing it changes what the operator renders."""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from typing import Any

from pydantic import BaseModel

from evolved_operator import api_strategy
from evolved_operator.api import COMPONENTS, EvolvedPipelineSpec
from evolved_operator.desired import render_children
from evolved_operator.render import PipelineInput

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

GATEWAY: dict[str, Any] = {
    "provider": "gatewayAPI",
    "gatewayAPI": {"parentRefs": [{"name": "edge", "sectionName": "http", "port": 80}], "hostnames": ["a.example.com"]},
}
MIRROR = {"variant": "cand", "percent": 10}

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
    "image.reference": ("image.reference", "reg.local/r/x:2", {"image": {"reference": "reg.local/r/x:1"}}),
    "image.pullPolicy": ("image.pullPolicy", "Always", {}),
    "image.pullSecrets": ("image.pullSecrets", ["reg", "reg2"], {}),
    "variants[].name": ("variants[1].name", "canary", {}),
    "variants[].role": (  # swapped in one change: a spec has exactly one stable variant
        "variants",
        [FULL["variants"][0] | {"role": "candidate"}, FULL["variants"][1] | {"role": "stable"}],
        {},
    ),
    "variants[].replicas": ("variants[0].replicas", 3, {}),
    "variants[].autoscaling.minReplicas": ("variants[1].autoscaling.minReplicas", 2, {}),
    "variants[].autoscaling.maxReplicas": ("variants[1].autoscaling.maxReplicas", 5, {}),
    "variants[].autoscaling.targetCPUUtilizationPercentage": (
        "variants[1].autoscaling.targetCPUUtilizationPercentage",
        50,
        {},
    ),
    "variants[].resources.requests.cpu": ("variants[0].resources.requests.cpu", "200m", {}),
    "variants[].resources.requests.memory": ("variants[0].resources.requests.memory", "256Mi", {}),
    "variants[].resources.limits.cpu": ("variants[0].resources.limits.cpu", "2", {}),
    "variants[].resources.limits.memory": ("variants[0].resources.limits.memory", "2Gi", {}),
    "variants[].env[].name": ("variants[0].env[0].name", "MODE2", {}),
    "variants[].env[].value": ("variants[0].env[0].value", "b", {}),
    "rollingUpdate.maxSurge": ("rollingUpdate.maxSurge", 1, {}),
    "rollingUpdate.maxUnavailable": ("rollingUpdate.maxUnavailable", "10%", {}),
    "llm.provider": ("llm.provider", "anthropic", {}),
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
    "pod.tolerations[].operator": ("pod.tolerations[0].operator", "Exists", {"pod.tolerations[0].value": ""}),
    "pod.tolerations[].value": ("pod.tolerations[0].value", "b", {}),
    "pod.tolerations[].effect": ("pod.tolerations[0].effect", "NoSchedule", {}),
    "pod.tolerations[].tolerationSeconds": ("pod.tolerations[0].tolerationSeconds", 60, {}),
    "pod.affinity": ("pod.affinity", {"podAntiAffinity": {}}, {}),
    "pod.labels": ("pod.labels", {"team": "ops"}, {}),
    "pod.annotations": ("pod.annotations", {"note": "y"}, {}),
    "pod.serviceAccountName": ("pod.serviceAccountName", "other", {}),
    "variants[].weight": (  # both in one change: weights sum to 100
        "variants",
        [FULL["variants"][0] | {"weight": 60}, FULL["variants"][1] | {"weight": 40}],
        {"variants[0].weight": 90, "variants[1].weight": 10, "traffic": GATEWAY},
    ),
    "traffic.provider": ("traffic.provider", "service", {"traffic.provider": "router"}),
    "traffic.sticky.header": ("traffic.sticky.header", "X-Other", {"traffic.sticky": {"header": "X-User"}}),
    "traffic.sticky.openAIUser": ("traffic.sticky.openAIUser", True, {"traffic.sticky": {"header": "X-User"}}),
    "traffic.mirror.variant": ("traffic.mirror.variant", "stable", {"traffic": GATEWAY | {"mirror": MIRROR}}),
    "traffic.mirror.percent": ("traffic.mirror.percent", 50, {"traffic": GATEWAY | {"mirror": MIRROR}}),
    **{
        f"traffic.gatewayAPI.parentRefs[].{field}": (
            f"traffic.gatewayAPI.parentRefs[0].{field}",
            value,
            {"traffic": GATEWAY},
        )
        for field, value in (
            ("group", "example.com"),
            ("kind", "ListenerSet"),
            ("name", "other"),
            ("namespace", "infra"),
            ("sectionName", "https"),
            ("port", 8443),
        )
    },
    "traffic.gatewayAPI.hostnames": ("traffic.gatewayAPI.hostnames", ["b.example.com"], {"traffic": GATEWAY}),
    "traffic.router.replicas": ("traffic.router.replicas", 3, {"traffic.router": {"replicas": 2}}),
    "traffic.router.minReplicas": ("traffic.router.minReplicas", 3, {"traffic.router": {"minReplicas": 2}}),
    "traffic.router.maxReplicas": ("traffic.router.maxReplicas", 6, {"traffic.router": {"maxReplicas": 5}}),
}

# Fields whose effect is not in the rendered objects, each with where it shows instead.
EFFECT_ELSEWHERE = {
    **{
        f"variants[].programs.{c}.configMapKeyRef.sha256": "a pin mismatch stalls the pipeline (ProgramDigestMismatch) "
        "before anything is rendered: the reconciler checks it when it reads the ConfigMap"
        for c in COMPONENTS
    },
    "traffic.sticky.header": "the router reads it from the pipeline (tests/runtime/router)",
    "traffic.sticky.openAIUser": "the router reads it from the pipeline (tests/runtime/router)",
}


def leaf_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted wire names of every leaf field; lists of models recurse into ``[]``."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        inner = _model_in(info.annotation)
        if inner is not None:
            out += leaf_fields(inner[0], path + ("[]." if inner[1] else "."))
        else:
            out.append(path)
    return out


def _model_in(annotation: Any) -> tuple[type[BaseModel], bool] | None:
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


# spec.strategy drives the rollout; what is rendered is the rollout's decision (weights, capacity,
# promoted programs), tested with the step machine.
STRATEGY_LEAVES = leaf_fields(api_strategy.Strategy, "strategy.")
CHANGES.update({leaf: ("strategy", {}, {}) for leaf in STRATEGY_LEAVES})
EFFECT_ELSEWHERE.update(
    dict.fromkeys(STRATEGY_LEAVES, "the rollout decides from it (tests/operator/test_rollout_steps.py)")
)


# The LLM path (spec.llm.providers, cache, limits, budgets, auth): rendered into pipeline.json and
# the pods' secretKeyRef environment (tests/operator/test_render_llm_path.py has the details).
PROVIDER = {"name": "a", "type": "openai", "baseURL": "https://a.example/v1", "model": "m",
            "apiKeySecretRef": {"name": "keys", "key": "a"}, "timeoutSeconds": 10, "priority": 1,
            "inputUSDPerMillionTokens": 1, "outputUSDPerMillionTokens": 2, "maxTokens": 100}  # fmt: skip
REDIS = {"urlSecretRef": {"name": "redis", "key": "url"}}
LLM_PATH = {
    "llm": {"providers": [PROVIDER], "retry": {"maxRetries": 2, "baseSeconds": 0.1, "maxSeconds": 5},
            "circuitBreaker": {"failures": 5, "failureRatio": 0.5, "window": 20, "minCalls": 10, "openSeconds": 30},
            "fallbackMessage": "sorry"},
    "cache": {"enabled": True, "ttlSeconds": 60, "maxEntries": 100, "redis": REDIS},
    "limits": {"requestsPerMinute": 10, "tokensPerMinute": 1000, "key": "apiKey", "userHeader": "X-User",
               "backend": "memory"},
    "budgets": {"pipeline": {"hourUSD": 1, "dayUSD": 10, "monthUSD": 100},
                "perKey": {"hourUSD": 1, "dayUSD": 10, "monthUSD": 100}, "alertRatio": 0.8, "backend": "memory"},
    "auth": {"apiKeysSecretRef": {"name": "api-keys", "key": "keys"}, "openHealth": True, "openMetrics": True},
}  # fmt: skip
LLM_PATH_VALUES = {
    "name": "b", "type": "anthropic", "baseURL": "https://b.example/v1", "model": "n", "apiKeySecretRef.name": "other",
    "apiKeySecretRef.key": "b", "timeoutSeconds": 20, "priority": 2, "inputUSDPerMillionTokens": 3,
    "outputUSDPerMillionTokens": 4, "maxTokens": 200, "maxRetries": 3, "baseSeconds": 0.2, "maxSeconds": 6,
    "failures": 6, "failureRatio": 0.6, "window": 30, "minCalls": 12, "openSeconds": 40, "fallbackMessage": "later",
    "enabled": False, "ttlSeconds": 120, "maxEntries": 200, "urlSecretRef.name": "other", "urlSecretRef.key": "u2",
    "requestsPerMinute": 20, "tokensPerMinute": 2000, "key": "user", "userHeader": "X-Other", "backend": "redis",
    "hourUSD": 2, "dayUSD": 20, "monthUSD": 200, "alertRatio": 0.9, "apiKeysSecretRef.name": "other",
    "apiKeysSecretRef.key": "k2", "openHealth": False, "openMetrics": False,
}  # fmt: skip
CHANGES["llm.providers"] = ("llm.providers", [PROVIDER | {"name": "b", "model": "n"}], LLM_PATH)
SEMANTIC = LLM_PATH | {"cache": LLM_PATH["cache"] | {"semantic": {"enabled": True, "threshold": 0.92}}}
CHANGES["cache.semantic.enabled"] = ("cache.semantic.enabled", False, SEMANTIC)
CHANGES["cache.semantic.threshold"] = ("cache.semantic.threshold", 0.95, SEMANTIC)
for _leaf in leaf_fields(EvolvedPipelineSpec):
    if _leaf.split(".")[0] in LLM_PATH and _leaf not in CHANGES:
        _last = next(v for k, v in LLM_PATH_VALUES.items() if _leaf.endswith("." + k))
        CHANGES[_leaf] = (_leaf.replace("[]", "[0]"), _last, LLM_PATH)


def resolve(spec: EvolvedPipelineSpec) -> dict[str, dict[str, str]]:
    """What the reconciler reads for ConfigMap programs: here every name/key holds its own source."""
    return {
        v.name: {
            c: f"# source of {s.config_map_key_ref.name}/{s.config_map_key_ref.key}"
            for c, s in v.programs.sources().items()
            if s.config_map_key_ref is not None
        }
        for v in spec.variants
    }


def output(doc: dict[str, Any]) -> str:
    spec = EvolvedPipelineSpec.model_validate(doc)
    every_variant_ready = {v.name: 1 for v in spec.variants}
    rendered = render_children(PipelineInput("qa", "ns", "uid-1", 1, spec, resolve(spec)), every_variant_ready)
    return json.dumps(rendered, sort_keys=True)


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
            set_path(before, path, copy.deepcopy(first))
        after = copy.deepcopy(before)
        set_path(after, where, value)
        if output(after) == output(before):
            inert.append(leaf)
    assert inert == [], f"these fields change nothing the operator renders: {inert}"


def test_the_full_spec_used_above_sets_every_kind_of_setting() -> None:
    """Guards the table: each change above starts from a spec where that field is set."""
    s = EvolvedPipelineSpec.model_validate(FULL)
    assert s.llm is not None
    assert s.llm.api_key_secret_ref is not None
    assert s.variants[1].autoscaling is not None
    assert set(s.variants[0].programs.sources()) == {"router", "translation", "profiles"}
