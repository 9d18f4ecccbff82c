"""spec.llm.providers, spec.cache, spec.limits, spec.budgets and spec.auth rendered into the runtime
config and the pods' environment; Secrets only as secretKeyRef; a missing Secret names its field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.api_llm import SecretKeyRef
from evolved_operator.inputs import needs_inputs, secret_problem
from evolved_operator.render import PipelineInput, render_all
from evolved_runtime.config import PipelineConfig

KEYS = {"name": "provider-keys-51c2", "key": "anthropic-key-9e"}
LLM_PATH: dict[str, Any] = {
    "variants": [{"name": "stable"}],
    "llm": {
        "providers": [
            {"name": "claude", "type": "anthropic", "baseURL": "https://api.anthropic.com/v1", "model": "haiku",
             "apiKeySecretRef": KEYS, "priority": 2, "inputUSDPerMillionTokens": 1, "outputUSDPerMillionTokens": 5},
            {"name": "local-vllm", "baseURL": "http://vllm:8000/v1", "model": "llama", "priority": 1},
        ],
        "retry": {"maxRetries": 1}, "circuitBreaker": {"failures": 3}, "fallbackMessage": "Busy, try later.",
    },
    "cache": {"ttlSeconds": 60, "redis": {"urlSecretRef": {"name": "redis-url-77", "key": "url"}}},
    "limits": {"requestsPerMinute": 60, "tokensPerMinute": 10000, "backend": "redis"},
    "budgets": {"pipeline": {"dayUSD": 20}, "perKey": {"hourUSD": 1}, "backend": "redis"},
    "auth": {"apiKeysSecretRef": {"name": "api-keys-3b", "key": "keys"}, "openMetrics": False},
}  # fmt: skip


def rendered(doc: dict[str, Any]) -> tuple[PipelineConfig, list[dict[str, Any]], str]:
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), {})
    objs = {(o["kind"], o["metadata"]["name"]): o for o in render_all(p)}
    configmap = objs[("ConfigMap", "qa-stable")]
    env = objs[("Deployment", "qa-stable")]["spec"]["template"]["spec"]["containers"][0]["env"]
    return PipelineConfig.model_validate_json(configmap["data"]["pipeline.json"]), env, json.dumps(configmap)


def test_every_llm_path_setting_reaches_the_runtime_config() -> None:
    config, _, _ = rendered(LLM_PATH)
    assert config.llm is not None
    first, second = config.llm.provider_list()
    assert (first.name, first.type, second.name, second.type) == ("local-vllm", "openai", "claude", "anthropic")
    assert (second.api_key_env, second.input_usd_per_mtok, second.output_usd_per_mtok) == (
        "EVOLVED_LLM_KEY_CLAUDE",
        1,
        5,
    )
    assert first.api_key_env is None
    assert (config.llm.retry.max_retries, config.llm.breaker.failures) == (1, 3)
    assert config.llm.fallback_message == "Busy, try later."
    assert (config.cache.enabled, config.cache.ttl_s, config.cache.redis) == (True, 60, True)
    assert (config.redis.url_env, config.redis.prefix) == ("EVOLVED_REDIS_URL", "evolved:qa")
    assert (config.limits.requests_per_minute, config.limits.tokens_per_minute, config.limits.backend) == (
        60,
        10000,
        "redis",
    )
    assert (config.budgets.daily_usd, config.budgets.per_key_hourly_usd, config.budgets.backend) == (20, 1, "redis")
    assert (config.auth.api_keys_env, config.auth.open_metrics) == ("EVOLVED_API_KEYS", False)


def test_secrets_reach_pods_only_as_secret_key_refs() -> None:
    _, env, configmap = rendered(LLM_PATH)
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
    assert refs == {
        "EVOLVED_LLM_KEY_CLAUDE": KEYS,
        "EVOLVED_API_KEYS": {"name": "api-keys-3b", "key": "keys"},
        "EVOLVED_REDIS_URL": {"name": "redis-url-77", "key": "url"},
    }
    for name in (KEYS["name"], KEYS["key"], "api-keys-3b", "redis-url-77"):
        assert name not in configmap


def test_the_quickstart_single_provider_form_renders_as_before() -> None:
    doc = {"variants": [{"name": "stable"}],
           "llm": {"baseURL": "https://llm.example/v1", "model": "small", "apiKeySecretRef": {"name": "s", "key": "k"}}}  # fmt: skip
    config, env, _ = rendered(doc)
    assert config.llm is not None
    assert [(p.name, p.base_url, p.model, p.api_key_env) for p in config.llm.provider_list()] == [
        ("default", "https://llm.example/v1", "small", "EVOLVED_LLM_API_KEY")
    ]
    assert [e["name"] for e in env if "valueFrom" in e] == ["EVOLVED_LLM_API_KEY"]
    assert (config.cache.enabled, config.auth.api_keys_env, config.limits.rate_limited()) == (False, None, False)


REF = SecretKeyRef(name="keys", key="k")


@pytest.mark.parametrize(
    ("name", "secret", "reason"),
    [
        ("a Secret with the key is fine", {"data": {"k": "eA=="}}, None),
        ("a key in stringData counts", {"stringData": {"k": "x"}}, None),
        ("no Secret", None, "SecretNotFound"),
        ("a Secret without the key", {"data": {"other": "eA=="}}, "SecretKeyNotFound"),
    ],
)
def test_secret_problems_name_the_field(name: str, secret: dict[str, Any] | None, reason: str | None) -> None:
    problem = secret_problem("spec.auth.apiKeysSecretRef", REF, secret, "ns")
    assert (problem.reason if problem else None) == reason
    if problem is not None:
        assert problem.message.startswith("spec.auth.apiKeysSecretRef: Secret 'keys'")


def test_specs_naming_secrets_are_resolved_before_rendering() -> None:
    assert needs_inputs({"spec": LLM_PATH})
    assert needs_inputs({"spec": {"auth": {"apiKeysSecretRef": {"name": "a", "key": "b"}}}})
    assert not needs_inputs({"spec": {"variants": [{"name": "stable"}], "limits": {"requestsPerMinute": 5}}})


def test_a_missing_secret_stalls_the_pipeline_naming_the_field() -> None:
    from tests.operator.test_controller import MemoryKube, body, controller, run

    doc = body()
    doc["spec"]["auth"] = {"apiKeysSecretRef": {"name": "api-keys", "key": "keys"}}
    doc["spec"]["cache"] = {"redis": {"urlSecretRef": {"name": "redis", "key": "url"}}}

    async def scenario(kube: MemoryKube) -> dict[str, Any]:
        await controller(kube).pipeline_changed(doc)
        return kube.statuses[-1]

    kube = MemoryKube()
    kube.objects[("Secret", "redis")] = {"kind": "Secret", "metadata": {"name": "redis"}, "data": {"url": "eA=="}}
    status = run(scenario(kube))
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "SecretNotFound")
    assert stalled["message"].startswith("spec.auth.apiKeysSecretRef: Secret 'api-keys' not found")
    assert not any(k == "Deployment" for k, _ in kube.objects)

    kube.objects[("Secret", "api-keys")] = {
        "kind": "Secret",
        "metadata": {"name": "api-keys"},
        "data": {"other": "eA=="},
    }
    status = run(scenario(kube))
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert (stalled["reason"], stalled["message"]) == (
        "SecretKeyNotFound",
        "spec.auth.apiKeysSecretRef: Secret 'api-keys' has no key 'keys'",
    )
