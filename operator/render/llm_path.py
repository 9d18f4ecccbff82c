"""The LLM path of the pod contract: spec.llm, spec.cache, spec.limits, spec.budgets and spec.auth
rendered into the runtime config, and the Secrets they name as environment (``secretKeyRef``)."""

from __future__ import annotations

import re
from typing import Any

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.api_llm import LLM, SecretKeyRef
from evolved_runtime.config import (
    AuthConfig,
    BreakerConfig,
    BudgetConfig,
    CacheConfig,
    LimitsConfig,
    LLMConfig,
    ProviderConfig,
    RedisConfig,
    RetryConfig,
    SemanticCacheConfig,
)

LLM_KEY_ENV = "EVOLVED_LLM_API_KEY"
API_KEYS_ENV = "EVOLVED_API_KEYS"
REDIS_URL_ENV = "EVOLVED_REDIS_URL"


def provider_key_env(name: str) -> str:
    return "EVOLVED_LLM_KEY_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def secret_refs(spec: EvolvedPipelineSpec) -> list[tuple[str, str, SecretKeyRef]]:
    """(variable, field, Secret key) for every Secret the LLM path reads, in a stable order."""
    out: list[tuple[str, str, SecretKeyRef]] = []
    llm = spec.llm
    if llm is not None and llm.api_key_secret_ref is not None:
        out.append((LLM_KEY_ENV, "spec.llm.apiKeySecretRef", llm.api_key_secret_ref))
    for i, provider in enumerate((llm.providers or []) if llm is not None else []):
        if provider.api_key_secret_ref is not None:
            field = f"spec.llm.providers[{i}].apiKeySecretRef"
            out.append((provider_key_env(provider.name), field, provider.api_key_secret_ref))
    if spec.auth is not None:
        out.append((API_KEYS_ENV, "spec.auth.apiKeysSecretRef", spec.auth.api_keys_secret_ref))
    if spec.cache is not None and spec.cache.redis is not None:
        out.append((REDIS_URL_ENV, "spec.cache.redis.urlSecretRef", spec.cache.redis.url_secret_ref))
    return out


def secret_env_vars(spec: EvolvedPipelineSpec) -> list[dict[str, Any]]:
    return [{"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
            for name, _, ref in secret_refs(spec)]  # fmt: skip


def llm_config(llm: LLM | None) -> LLMConfig | None:
    if llm is None:
        return None
    retry = llm.retry
    breaker = llm.circuit_breaker
    common: dict[str, Any] = {
        "retry": RetryConfig(max_retries=retry.max_retries, base_s=retry.base_seconds, max_s=retry.max_seconds)
        if retry is not None else RetryConfig(),
        "breaker": BreakerConfig(failures=breaker.failures, failure_ratio=breaker.failure_ratio, window=breaker.window,
                                 min_calls=breaker.min_calls, open_s=breaker.open_seconds)
        if breaker is not None else BreakerConfig(),
        "fallback_message": llm.fallback_message,
    }  # fmt: skip
    if llm.providers:
        providers = [
            ProviderConfig(
                name=p.name, type=p.type, base_url=p.base_url, model=p.model, timeout_s=p.timeout_seconds,
                api_key_env=provider_key_env(p.name) if p.api_key_secret_ref is not None else None,
                priority=p.priority, input_usd_per_mtok=p.input_usd_per_million_tokens,
                output_usd_per_mtok=p.output_usd_per_million_tokens, max_tokens=p.max_tokens,
            )
            for p in llm.providers
        ]  # fmt: skip
        return LLMConfig(api_key_env=None, providers=providers, **common)
    return LLMConfig(
        provider=llm.provider, base_url=llm.base_url, model=llm.model, timeout_s=llm.timeout_seconds,
        api_key_env=LLM_KEY_ENV if llm.api_key_secret_ref is not None else None, **common,
    )  # fmt: skip


def llm_path_config(pipeline: str, spec: EvolvedPipelineSpec) -> dict[str, Any]:
    """The PipelineConfig fields of the cache, limits, budgets, auth and Redis (only those set)."""
    out: dict[str, Any] = {}
    cache = spec.cache
    if cache is not None:
        semantic = cache.semantic
        out["cache"] = CacheConfig(enabled=cache.enabled, ttl_s=cache.ttl_seconds, max_entries=cache.max_entries,
                                   redis=cache.redis is not None,
                                   semantic=SemanticCacheConfig(enabled=cache.enabled and semantic.enabled,
                                                                threshold=semantic.threshold)
                                   if semantic is not None else SemanticCacheConfig())  # fmt: skip
        if cache.redis is not None:
            out["redis"] = RedisConfig(url_env=REDIS_URL_ENV, prefix=f"evolved:{pipeline}")
    limits = spec.limits
    if limits is not None:
        out["limits"] = LimitsConfig(
            requests_per_minute=limits.requests_per_minute, tokens_per_minute=limits.tokens_per_minute,
            key="api_key" if limits.key == "apiKey" else "user", user_header=limits.user_header.lower(),
            backend=limits.backend,
        )  # fmt: skip
    budgets = spec.budgets
    if budgets is not None:
        mine, per_key = budgets.pipeline, budgets.per_key
        out["budgets"] = BudgetConfig(
            hourly_usd=mine.hour_usd if mine else None, daily_usd=mine.day_usd if mine else None,
            monthly_usd=mine.month_usd if mine else None,
            per_key_hourly_usd=per_key.hour_usd if per_key else None,
            per_key_daily_usd=per_key.day_usd if per_key else None,
            per_key_monthly_usd=per_key.month_usd if per_key else None,
            alert_ratio=budgets.alert_ratio, backend=budgets.backend,
        )  # fmt: skip
    if spec.auth is not None:
        out["auth"] = AuthConfig(api_keys_env=API_KEYS_ENV, open_health=spec.auth.open_health,
                                 open_metrics=spec.auth.open_metrics)  # fmt: skip
    return out
