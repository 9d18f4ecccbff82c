"""Providers in priority order, each behind a circuit breaker, with retries and failover.

A call goes to the first provider whose circuit takes it; a retriable failure (timeout,
connection error, 429, 5xx, an unreadable answer) is retried on the same provider after a
backoff with full jitter (``Retry-After`` honoured), then the next provider takes over. A
permanent failure (another 4xx: the request is at fault) is neither retried nor failed over.
A stream fails over only until its first delta; after that a failure ends it with an error.
When nothing answers: a 429 if every provider said 429, else a 503 with ``Retry-After``
(or the configured fallback message).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from evolved_runtime import metrics
from evolved_runtime.config import LLMConfig, ProviderConfig
from evolved_runtime.llm.anthropic import AnthropicLLM
from evolved_runtime.llm.base import LLMError, LLMReply, LLMStream
from evolved_runtime.llm.breaker import Breaker, State
from evolved_runtime.llm.openai_compat import OpenAICompatLLM
from evolved_runtime.llm.retry import backoff_s, parse_retry_after

T = TypeVar("T")


class Provider(Protocol):
    config: ProviderConfig

    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply: ...

    async def open_stream(self, messages: list[dict[str, Any]], **params: Any) -> LLMStream: ...

    async def close(self) -> None: ...


class CallGuard(Protocol):
    """Budgets and cost accounting around every LLM call (the admission stages' side)."""

    async def before(self, messages: list[dict[str, Any]], params: dict[str, Any], price: ProviderConfig) -> float:
        """Check the budget (raise a ServiceError to refuse) and reserve an estimate; returns it."""
        ...

    async def after(self, reserved: float, provider: str, model: str, usage: dict[str, int], cost: float) -> None:
        """Settle the reservation with what the call really used (nothing, when it failed)."""
        ...


def make_provider(config: ProviderConfig) -> Provider:
    return AnthropicLLM(config) if config.type == "anthropic" else OpenAICompatLLM(config)


def single_stream(opening: Awaitable[LLMStream]) -> LLMStream:
    """A stream from one provider, opened on the first read."""
    out = LLMStream()

    async def deltas() -> AsyncIterator[str]:
        stream = await opening
        out.provider, out.model = stream.provider, stream.model
        try:
            async for delta in stream:
                yield delta
        finally:
            await stream.aclose()
            out.usage, out.cost_usd = stream.usage, stream.cost_usd

    return out.attach(deltas())


class ProviderSet:
    def __init__(
        self,
        config: LLMConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        draw: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.slots = [(make_provider(p), Breaker(config.breaker)) for p in config.provider_list()]
        self.guard: CallGuard | None = None
        self.clock, self.draw, self.sleep = clock, draw, sleep

    def states(self) -> dict[str, State]:
        return {provider.config.name: breaker.state for provider, breaker in self.slots}

    async def _run(self, call: Callable[[Provider], Awaitable[T]]) -> T:
        retry = self.config.retry
        failures: list[tuple[str, LLMError]] = []
        refused: list[tuple[str, float]] = []
        for provider, breaker in self.slots:
            name = provider.config.name
            if not breaker.allow(self.clock()):
                refused.append((name, breaker.retry_in_s(self.clock())))
                continue
            for attempt in range(retry.max_retries + 1):
                try:
                    result = await call(provider)
                except LLMError as exc:
                    metrics.llm_call(name, exc.code, exc.retriable)
                    if not exc.retriable:
                        raise
                    breaker.record(False, self.clock())
                    failures.append((name, exc))
                    if breaker.state != "closed" or attempt == retry.max_retries:
                        break
                    wait = backoff_s(attempt, retry.base_s, retry.max_s, self.draw(),
                                     parse_retry_after(exc.retry_after, time.time()))  # fmt: skip
                    if wait is None:
                        break
                    await self.sleep(wait)
                    continue
                breaker.record(True, self.clock())
                metrics.llm_call(name, "ok", False)
                return result
        raise self._exhausted(failures, refused)

    def _exhausted(self, failures: list[tuple[str, LLMError]], refused: list[tuple[str, float]]) -> LLMError:
        causes = [f"{name}: {exc.message}" for name, exc in failures[-len(self.slots) :]]
        causes += [f"{name}: circuit open (retry in {wait:.0f}s)" for name, wait in refused]
        if failures and not refused and all(exc.status == 429 for _, exc in failures):
            waits = [exc.retry_after for _, exc in failures if exc.retry_after]
            return LLMError(429, "rate_limit_exceeded", "every LLM provider is rate limiting: " + "; ".join(causes),
                            min(waits, key=lambda w: parse_retry_after(w, time.time()) or 0) if waits else None)  # fmt: skip
        wait = min((w for _, w in refused), default=1.0)
        return LLMError(
            503, "llm_unavailable", "no LLM provider could answer: " + "; ".join(causes),
            str(max(1, math.ceil(wait))), retriable=True,
        )  # fmt: skip

    def _fallback(self) -> LLMReply | None:
        text = self.config.fallback_message
        return None if text is None else LLMReply(content=text, model="fallback", provider="fallback")

    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply:
        guard = self.guard
        reserved = await guard.before(messages, params, self.slots[0][0].config) if guard is not None else 0.0
        reply: LLMReply | None = None
        try:
            reply = await self._run(lambda provider: provider.chat(messages, **params))
        except LLMError:
            reply = self._fallback()
            if reply is None:
                raise
        finally:
            if guard is not None:
                done = reply if reply is not None and reply.provider != "fallback" else None
                await guard.after(reserved, done.provider if done else "", done.model if done else "",
                                  done.usage if done else {}, done.cost_usd if done else 0.0)  # fmt: skip
        return reply

    def stream(self, messages: list[dict[str, Any]], **params: Any) -> LLMStream:
        out = LLMStream()
        return out.attach(self._stream(messages, params, out))

    async def _stream(
        self, messages: list[dict[str, Any]], params: dict[str, Any], out: LLMStream
    ) -> AsyncIterator[str]:
        guard = self.guard
        reserved = await guard.before(messages, params, self.slots[0][0].config) if guard is not None else 0.0
        stream: LLMStream | None = None
        try:

            async def first(provider: Provider) -> tuple[LLMStream, str | None]:
                opened = await provider.open_stream(messages, **params)
                try:
                    return opened, await opened.__anext__()
                except StopAsyncIteration:
                    return opened, None
                except BaseException:
                    await opened.aclose()
                    raise

            try:
                live, head = await self._run(first)
            except LLMError:
                fallback = self._fallback()
                if fallback is None:
                    raise
                yield fallback.content
                return
            stream = live
            out.provider, out.model = live.provider, live.model
            if head is not None:
                yield head
                try:
                    async for delta in live:
                        yield delta
                except LLMError as exc:
                    breaker = next(b for p, b in self.slots if p.config.name == live.provider)
                    breaker.record(False, self.clock())
                    metrics.llm_call(live.provider, exc.code, exc.retriable)
                    raise
            out.usage, out.cost_usd = live.usage, live.cost_usd
        finally:
            if stream is not None:
                await stream.aclose()
            if guard is not None:
                await guard.after(reserved, out.provider, out.model, out.usage, out.cost_usd)

    async def close(self) -> None:
        for provider, _ in self.slots:
            await provider.close()
