"""The admission stages every chat entrance runs, in this order:

auth -> rate limit -> budget -> cache -> pipeline -> settle

``api.chat.handle`` calls them (the FastAPI route, the ASGI fast path and the direct uvicorn
answer all end there); each stage appends its name to the request's ``Ticket``, which the
request's log event carries. The budget is enforced where the money is spent: the stage binds
the caller to the request, and every LLM call inside the pipeline goes through ``before`` /
``after`` (the ProviderSet's guard), so solver answers are still served over budget.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from evolved_runtime import logs, metrics
from evolved_runtime.admission.auth import ApiKeys
from evolved_runtime.admission.budgets import Budgets, estimate_usd
from evolved_runtime.admission.cache import AnswerCache, cache_key
from evolved_runtime.admission.costs import CostTable
from evolved_runtime.admission.health import RecentTraffic
from evolved_runtime.admission.ratelimit import RateLimiter
from evolved_runtime.admission.redis_store import SharedRedis
from evolved_runtime.admission.semantic_cache import (
    Probe,
    SemanticCache,
    answered_by_llm_directly,
    bucket_of,
    prompt_of,
)
from evolved_runtime.config import PipelineConfig, ProviderConfig, check_installed
from evolved_runtime.errors import ServiceError
from evolved_runtime.llm.failover import ProviderSet

ANONYMOUS = "anonymous"


@dataclass(slots=True)
class Ticket:
    """One request's way through the stages: who asked, what it cost, how it ended."""

    request_id: str
    started: float
    stages: list[str] = field(default_factory=list)
    key_id: str | None = None
    caller: str = ANONYMOUS
    over_budget: ServiceError | None = None  # the refusal for a budget already spent at admission
    cache_key: str | None = None
    cache_level: str = "off"
    semantic: Probe | None = None
    provider: str = ""
    model: str = ""
    llm_usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    error: str | None = None
    error_class: str | None = None

    def failed(self, exc: ServiceError) -> ServiceError:
        """Note the error (its code, and whether trying again may help) for the request's event."""
        self.error = exc.code
        retriable = getattr(exc, "retriable", None)
        if retriable is None:
            retriable = exc.status == 429 or (exc.status >= 500 and exc.retry_after is not None)
        self.error_class = "retriable" if retriable else "permanent"
        return exc


CURRENT: ContextVar[Ticket | None] = ContextVar("evolved_ticket", default=None)


class Admission:
    def __init__(self, config: PipelineConfig, llm: ProviderSet | None) -> None:
        self.config = config
        self.redis = SharedRedis(config.redis) if config.redis.url_env else None
        self.keys = ApiKeys.from_config(config.auth)
        self.limiter = RateLimiter(config.limits, self.redis) if config.limits.rate_limited() else None
        self.budgets = Budgets(config.budgets, self.redis) if config.budgets.enabled() else None
        self.cache = AnswerCache(config.cache, self.redis) if config.cache.enabled else None
        self.semantic = self._semantic(config)
        self.costs = CostTable(config.variant)
        self.traffic = RecentTraffic(config.health.window_s)
        self.by_user = config.limits.key == "user"
        self.log_requests = config.logging.requests
        self.log_prompts = config.logging.prompts
        if llm is not None:
            llm.guard = self

    @staticmethod
    def _semantic(config: PipelineConfig) -> SemanticCache | None:
        if not (config.cache.enabled and config.cache.semantic.enabled):
            return None
        check_installed(config)  # ConfigError naming what to install
        return SemanticCache(config.cache)

    # -- 1. auth ---------------------------------------------------------------------------

    def auth(self, ticket: Ticket, authorization: str | None) -> ServiceError | None:
        ticket.stages.append("auth")
        if self.keys is None:
            return None
        key_id = self.keys.key_id(authorization)
        if key_id is None:
            metrics.refused("auth", "missing_key" if not authorization else "invalid_key")
            return ServiceError(401, "invalid_api_key", "a valid API key is required: Authorization: Bearer <key>")
        ticket.key_id = ticket.caller = key_id
        return None

    # -- 2. rate limit ---------------------------------------------------------------------

    async def rate_limit(self, ticket: Ticket, user: str | None) -> ServiceError | None:
        ticket.stages.append("rate_limit")
        if self.by_user or ticket.key_id is None:
            ticket.caller = f"user:{user}" if user else ANONYMOUS
        if self.limiter is None:
            return None
        return await self.limiter.admit(ticket.caller)

    # -- 3. budget -------------------------------------------------------------------------

    def budget(self, ticket: Ticket) -> None:
        ticket.stages.append("budget")
        if self.budgets is not None and self.budgets.redis is None:
            ticket.over_budget = self.budgets.exceeded_now(ticket.caller)

    # -- 4. cache --------------------------------------------------------------------------

    async def cache_lookup(self, ticket: Ticket, program_hash: str, model: str, turns: list[tuple[str, str]],
                           params: dict[str, Any], opt_out: bool,
                           llm_bound: Callable[[], Awaitable[bool]] | None = None) -> bytes | None:  # fmt: skip
        """The exact cache, then (when on, and ``llm_bound`` says the router program sends this
        request to the LLM) the semantic cache."""
        ticket.stages.append("cache")
        if self.cache is None:
            return None
        if opt_out:
            ticket.cache_level = "bypass"
            return None
        ticket.cache_key = cache_key(self.config.variant, program_hash, model, turns, params)
        found = await self.cache.get(ticket.cache_key)
        if found is None and self.semantic is not None and (llm_bound is None or await llm_bound()):
            return await self._semantic_lookup(ticket, program_hash, model, turns, params)
        if found is None:
            ticket.cache_level = "miss"
            return None
        ticket.cache_level = found[0]
        return found[1]

    async def _semantic_lookup(self, ticket: Ticket, program_hash: str, model: str, turns: list[tuple[str, str]],
                               params: dict[str, Any]) -> bytes | None:  # fmt: skip
        assert self.semantic is not None
        ticket.cache_level = "miss"
        asked = prompt_of(turns, params)
        if asked is None:
            return None
        bucket = bucket_of(self.config.variant, program_hash, model, asked[0], params)
        ticket.semantic, answer = await self.semantic.lookup(bucket, asked[1])
        if answer is not None:
            ticket.cache_level = "semantic"
        return answer

    # -- 5. pipeline: LLM calls pass through the guard -------------------------------------

    async def before(self, messages: list[dict[str, Any]], params: dict[str, Any], price: ProviderConfig) -> float:
        if self.budgets is None:
            return 0.0
        ticket = CURRENT.get()
        caller = ticket.caller if ticket is not None else ANONYMOUS
        if ticket is not None and ticket.over_budget is not None:
            metrics.refused("budget", "spent")
            raise ticket.over_budget
        estimate = estimate_usd(messages, params, self.config.budgets.estimate_output_tokens, price)
        return await self.budgets.reserve(caller, estimate)

    async def after(self, reserved: float, provider: str, model: str, usage: dict[str, int], cost: float) -> None:
        ticket = CURRENT.get()
        if ticket is None:  # a call made outside any request (none today): priced, not attributed
            if provider:
                self.costs.record(provider, model, "translation", usage, cost)
        elif provider:
            ticket.provider, ticket.model = provider, model
            for key, value in usage.items():
                ticket.llm_usage[key] = ticket.llm_usage.get(key, 0) + value
            ticket.cost_usd += cost
        if self.budgets is not None:
            await self.budgets.settle(ticket.caller if ticket is not None else ANONYMOUS, reserved, cost)

    # -- 6. settle -------------------------------------------------------------------------

    async def settle(self, ticket: Ticket, status: int, tier: str, usage: dict[str, int] | None,
                     answer: bytes | None, prompt: str | None = None) -> None:  # fmt: skip
        """Usage, cost, cache fill, health, the request's log event."""
        ticket.stages.append("settle")
        seconds = time.perf_counter() - ticket.started
        self.traffic.record(status, seconds)
        if ticket.provider:
            self.costs.record(ticket.provider, ticket.model, tier, ticket.llm_usage, ticket.cost_usd)
        tokens = (usage or {}).get("total_tokens", 0)
        if self.limiter is not None and tokens:
            await self.limiter.spent_tokens(ticket.caller, tokens)
        if answer is not None and ticket.cache_key is not None and self.cache is not None and status == 200:
            await self.cache.put(ticket.cache_key, answer)
            probe = ticket.semantic
            if probe is not None and self.semantic is not None and tier == "0" and answered_by_llm_directly(answer):
                self.semantic.put(probe, answer)
        if self.log_requests:
            event: dict[str, Any] = {
                "event": "request", "request_id": ticket.request_id, "status": status, "tier": tier,
                "provider": ticket.provider or None, "latency_ms": round(seconds * 1000, 3),
                "tokens": tokens, "cost_usd": round(ticket.cost_usd, 9), "cache": ticket.cache_level,
                "caller": ticket.caller, "stages": ticket.stages,
            }  # fmt: skip
            if ticket.error is not None:
                event["error"], event["error_class"] = ticket.error, ticket.error_class
            if ticket.cache_level == "semantic" and ticket.semantic is not None:
                event["similarity"] = round(ticket.semantic.similarity, 4)
            if prompt is not None and self.log_prompts:
                event["prompt"] = prompt
            logs.request_event(event)

    async def close(self) -> None:
        if self.semantic is not None:
            self.semantic.close()
        if self.redis is not None:
            await self.redis.close()
