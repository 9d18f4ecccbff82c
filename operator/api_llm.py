"""The LLM path's API: providers with failover (``spec.llm``), the answer cache (``spec.cache``),
rate limits (``spec.limits``), budgets (``spec.budgets``) and inbound API keys (``spec.auth``).

Secrets (provider keys, the accepted API keys, the Redis URL with its password) are only ever
named here as ``secretKeyRef``s: the operator passes them to pods as environment variables, never
in a ConfigMap or the status. Today's single-provider form (``baseURL`` + ``model``) stays valid.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evolved_operator.api_base import DATA_KEY, DNS_LABEL, DNS_SUBDOMAIN, ApiModel, Rule

BASE_URL = r"^https?://[^\s/]+(/\S*)?$"
HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
ProviderType = Literal["openai", "anthropic"]


class SecretKeyRef(ApiModel):
    """A key of a Secret in the pipeline's namespace."""

    name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN, description="Secret name, in the pipeline's namespace.")
    key: str = Field(max_length=253, pattern=DATA_KEY, description="Key in the Secret.")


class LLMProvider(ApiModel):
    """One provider of the failover list."""

    name: str = Field(max_length=40, pattern=DNS_LABEL, description="Provider name (metrics, logs, /health, /costs).")
    type: ProviderType = Field(
        default="openai",
        description="`openai`: any OpenAI-compatible server (OpenAI, vLLM, Ollama, OpenRouter); `anthropic`: the "
        "Messages API.",
    )
    base_url: str = Field(
        alias="baseURL", max_length=2048, pattern=BASE_URL, description="Base URL, e.g. `https://api.anthropic.com/v1`."
    )
    model: str = Field(min_length=1, max_length=256, description="Model name sent upstream.")
    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding this provider's API key."
    )
    timeout_seconds: float = Field(default=60, gt=0, le=600, description="Timeout of one attempt, in seconds.")
    priority: int = Field(default=0, ge=0, le=1000, description="Lower goes first; failover follows this order.")
    input_usd_per_million_tokens: float = Field(
        default=0, ge=0, alias="inputUSDPerMillionTokens", description="Price of a million input tokens, in USD."
    )
    output_usd_per_million_tokens: float = Field(
        default=0, ge=0, alias="outputUSDPerMillionTokens", description="Price of a million output tokens, in USD."
    )
    max_tokens: int | None = Field(default=None, gt=0, description="max_tokens sent when the caller sets none.")


class Retry(ApiModel):
    """Retries of one provider: only timeouts, connection errors, 429 and 5xx (never other 4xx)."""

    max_retries: int = Field(default=2, ge=0, le=10, description="Retries per provider after the first attempt.")
    base_seconds: float = Field(default=0.1, ge=0, le=60, description="First backoff; doubles per retry, full jitter.")
    max_seconds: float = Field(
        default=5, ge=0, le=600, description="Longest wait; a longer Retry-After moves on to the next provider."
    )


class CircuitBreaker(ApiModel):
    """Per provider: closed -> open (after failures) -> half-open (one probe) -> closed."""

    failures: int = Field(default=5, ge=1, le=1000, description="Consecutive failures that open the circuit.")
    failure_ratio: float = Field(
        default=0.5, gt=0, le=1, description="Failure ratio over `window` calls that opens it."
    )
    window: int = Field(default=20, ge=2, le=10000, description="Calls the ratio looks at.")
    min_calls: int = Field(default=10, ge=1, le=10000, description="Calls in the window before the ratio counts.")
    open_seconds: float = Field(default=30, gt=0, le=3600, description="Time open before a half-open probe.")


class LLM(ApiModel):
    """The LLM of Tier 0 and of LLM-assisted translation: one provider (`baseURL` + `model`) or a
    failover list (`providers`)."""

    cel_rules = (
        Rule(
            "has(self.providers) != (has(self.baseURL) || has(self.model))",
            "give baseURL and model (one provider) or providers, not both and not neither",
            lambda s: bool(s.providers) != (s.base_url is not None or s.model is not None),
        ),
        Rule(
            "has(self.providers) || (has(self.baseURL) && has(self.model))",
            "a single provider needs both baseURL and model",
            lambda s: bool(s.providers) or (s.base_url is not None and s.model is not None),
        ),
        Rule(
            "!has(self.providers) || self.providers.all(p, self.providers.exists_one(q, q.name == p.name))",
            "provider names must be unique",
            lambda s: not s.providers or len({p.name for p in s.providers}) == len(s.providers),
        ),
    )

    provider: ProviderType = Field(default="openai", description="Protocol of the single provider.")
    base_url: str | None = Field(
        default=None,
        alias="baseURL",
        max_length=2048,
        pattern=BASE_URL,
        description="Base URL, e.g. `https://api.openai.com/v1`.",
    )
    model: str | None = Field(default=None, min_length=1, max_length=256, description="Model name sent upstream.")
    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None,
        description="Secret key holding the single provider's API key; it reaches pods only as the environment "
        "variable `EVOLVED_LLM_API_KEY` (a `secretKeyRef`), never a ConfigMap or the status.",
    )
    timeout_seconds: float = Field(default=60, gt=0, le=600, description="Upstream request timeout in seconds.")
    providers: list[LLMProvider] | None = Field(
        default=None,
        min_length=1,
        max_length=8,
        description="Providers tried in priority order (instead of baseURL/model).",
    )
    retry: Retry | None = Field(default=None, description="Retries per provider (defaults: 2 retries, 0.1-5 s).")
    circuit_breaker: CircuitBreaker | None = Field(default=None, description="The circuit breaker of each provider.")
    fallback_message: str | None = Field(
        default=None, max_length=4096, description="Answer sent when every provider fails; unset: HTTP 503."
    )


class Redis(ApiModel):
    """The Redis the pods share (cache, limits and budgets with backend `redis`)."""

    url_secret_ref: SecretKeyRef = Field(
        alias="urlSecretRef",
        description="Secret key holding the Redis URL (with its password), e.g. `redis://:pw@redis:6379/0`.",
    )


class SemanticCache(ApiModel):
    """The semantic level, after an exact miss: an LLM (Tier 0) answer served to a paraphrase of its prompt
    (all-MiniLM-L6-v2 embeddings, cosine similarity); never a solver answer. Each pod's memory only. Off
    unless this is set; the shipped image carries the model (an image built without it refuses to start)."""

    enabled: bool = Field(default=True, description="Serve cached LLM answers to similar prompts.")
    threshold: float = Field(
        default=0.92, ge=0.5, le=1, description="Least cosine similarity of the two prompts' embeddings."
    )


class Cache(ApiModel):
    """Exact-match answer cache: memory in each pod (LRU, TTL), and Redis when set."""

    enabled: bool = Field(
        default=True, description="Cache answers (a request opts out with `Cache-Control: no-cache`)."
    )
    ttl_seconds: int = Field(default=300, ge=1, le=2592000, description="How long an answer stays cached.")
    max_entries: int = Field(default=10000, ge=1, le=10000000, description="Answers kept in each pod's memory.")
    redis: Redis | None = Field(default=None, description="A Redis shared by the pods (second cache level).")
    semantic: SemanticCache | None = Field(
        default=None, description="The semantic level: off unless set; `enabled: false` above turns both levels off."
    )


class Limits(ApiModel):
    """Per-caller rate limits; past one, HTTP 429 with Retry-After."""

    cel_rules = (
        Rule(
            "has(self.requestsPerMinute) || has(self.tokensPerMinute)",
            "limits needs requestsPerMinute or tokensPerMinute",
            lambda s: s.requests_per_minute is not None or s.tokens_per_minute is not None,
        ),
    )

    requests_per_minute: int | None = Field(default=None, ge=1, le=10000000, description="Chat requests per minute.")
    tokens_per_minute: int | None = Field(default=None, ge=1, le=10000000000, description="LLM tokens per minute.")
    key: Literal["apiKey", "user"] = Field(
        default="apiKey",
        description="Who a caller is: the API key (with spec.auth), or the user (`userHeader`, else the OpenAI `user` field).",
    )
    user_header: str = Field(
        default="X-Evolved-User", max_length=256, pattern=HEADER_NAME, description="Header naming the user."
    )
    backend: Literal["memory", "redis"] = Field(
        default="memory", description="Counters per pod (`memory`) or shared (`redis`: needs spec.cache.redis)."
    )


class BudgetLimits(ApiModel):
    """Spending limits in USD per UTC hour, day and calendar month."""

    cel_rules = (
        Rule(
            "has(self.hourUSD) || has(self.dayUSD) || has(self.monthUSD)",
            "a budget needs hourUSD, dayUSD or monthUSD",
            lambda s: any(v is not None for v in (s.hour_usd, s.day_usd, s.month_usd)),
        ),
    )

    hour_usd: float | None = Field(default=None, gt=0, alias="hourUSD", description="USD per hour.")
    day_usd: float | None = Field(default=None, gt=0, alias="dayUSD", description="USD per day.")
    month_usd: float | None = Field(default=None, gt=0, alias="monthUSD", description="USD per month.")


class Budgets(ApiModel):
    """Budgets checked before each LLM call (an estimate) and settled after (the real cost). Over
    budget, solver answers are still served; LLM calls get HTTP 429 `budget_exceeded`."""

    cel_rules = (
        Rule(
            "has(self.pipeline) || has(self.perKey)",
            "budgets needs pipeline or perKey",
            lambda s: s.pipeline is not None or s.per_key is not None,
        ),
    )

    pipeline: BudgetLimits | None = Field(
        default=None, description="For the whole pipeline (per pod unless backend redis)."
    )
    per_key: BudgetLimits | None = Field(default=None, description="For each caller (see limits.key).")
    alert_ratio: float = Field(default=0.8, gt=0, le=1, description="Share spent that raises the alert (metric, log).")
    backend: Literal["memory", "redis"] = Field(
        default="memory", description="Spending summed per pod (`memory`) or shared (`redis`: needs spec.cache.redis)."
    )


class Auth(ApiModel):
    """Inbound API keys: `Authorization: Bearer <key>` on chat, models, /config and /costs."""

    api_keys_secret_ref: SecretKeyRef = Field(
        description="Secret key holding the accepted keys, one per line (or comma separated)."
    )
    open_health: bool = Field(default=True, description="/health and /ready answer without a key.")
    open_metrics: bool = Field(default=True, description="/metrics answers without a key.")


REDIS_RULES = (
    Rule(
        "!has(self.limits) || self.limits.backend != 'redis' || (has(self.cache) && has(self.cache.redis))",
        "limits.backend redis needs a Redis: set cache.redis.urlSecretRef",
        lambda s: (
            s.limits is None or s.limits.backend != "redis" or (s.cache is not None and s.cache.redis is not None)
        ),
    ),
    Rule(
        "!has(self.budgets) || self.budgets.backend != 'redis' || (has(self.cache) && has(self.cache.redis))",
        "budgets.backend redis needs a Redis: set cache.redis.urlSecretRef",
        lambda s: (
            s.budgets is None or s.budgets.backend != "redis" or (s.cache is not None and s.cache.redis is not None)
        ),
    ),
    Rule(
        "!has(self.budgets) || !has(self.budgets.perKey) || has(self.auth) || "
        "(has(self.limits) && self.limits.key == 'user')",
        "budgets.perKey needs callers: set auth (API keys) or limits.key user",
        lambda s: (
            s.budgets is None
            or s.budgets.per_key is None
            or s.auth is not None
            or (s.limits is not None and s.limits.key == "user")
        ),
    ),
)
