"""The provider layer against real fake upstreams on 127.0.0.1: retries, failover, breakers,
Anthropic's shape, streams that break or hang, malformed answers, stale connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from e2e.fake_upstream import Behaviour, FakeUpstream, Step
from evolved_runtime.config import LLMConfig
from evolved_runtime.llm import LLMError, ProviderSet
from tests.runtime.conftest import wait_until

ASK = [{"role": "user", "content": "Tell me about the weather"}]
FAST = {"retry": {"max_retries": 2, "base_s": 0.01, "max_s": 1}, "breaker": {"failures": 3, "open_s": 60}}


@pytest.fixture
def second() -> Iterator[FakeUpstream]:
    fake = FakeUpstream(Behaviour(reply="second says hi")).start()
    yield fake
    fake.stop()


async def drain(stream: AsyncIterator[str], into: list[str]) -> None:
    async for delta in stream:
        into.append(delta)


def providers(*upstreams: tuple[str, FakeUpstream, str], **extra: Any) -> ProviderSet:
    listed = [{"name": name, "type": kind, "base_url": up.base_url, "model": f"{name}-model", "priority": i,
               "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 2.0, "timeout_s": 2}
              for i, (name, up, kind) in enumerate(upstreams)]  # fmt: skip
    return ProviderSet(LLMConfig.model_validate({"providers": listed, **FAST, **extra}))


async def test_a_retriable_failure_is_retried_after_retry_after(upstream: FakeUpstream) -> None:
    upstream.script.extend([Step(status=429, retry_after="0"), Step(status=503)])
    llm = providers(("a", upstream, "openai"))
    try:
        reply = await llm.chat(ASK)
    finally:
        await llm.close()
    assert reply.content == "Hello from the fake upstream."
    assert upstream.requests == 3
    assert reply.provider == "a"
    assert reply.cost_usd == pytest.approx((3 * 1.0 + 5 * 2.0) / 1e6)


async def test_a_request_error_is_neither_retried_nor_failed_over(upstream: FakeUpstream, second: FakeUpstream) -> None:
    upstream.script.append(Step(status=400))
    llm = providers(("a", upstream, "openai"), ("b", second, "openai"))
    try:
        with pytest.raises(LLMError) as caught:
            await llm.chat(ASK)
    finally:
        await llm.close()
    assert caught.value.status == 502
    assert caught.value.code == "upstream_rejected"
    assert (upstream.requests, second.requests) == (1, 0)


async def test_failover_by_priority_and_the_breaker_skips_a_dead_provider(
    upstream: FakeUpstream, second: FakeUpstream
) -> None:
    upstream.behaviour.fail_status = 500
    llm = providers(("a", upstream, "openai"), ("b", second, "openai"))
    try:
        reply = await llm.chat(ASK)
        assert (reply.provider, reply.content) == ("b", "second says hi")
        assert upstream.requests == 3  # the first try and two retries, then the next provider
        assert llm.states() == {"a": "open", "b": "closed"}
        await llm.chat(ASK)
        assert upstream.requests == 3  # the open circuit keeps calls away
    finally:
        await llm.close()


async def test_every_provider_down_is_a_503_with_retry_after(upstream: FakeUpstream, second: FakeUpstream) -> None:
    upstream.behaviour.fail_status = second.behaviour.fail_status = 502
    llm = providers(("a", upstream, "openai"), ("b", second, "openai"))
    try:
        for _ in range(2):
            with pytest.raises(LLMError) as caught:
                await llm.chat(ASK)
            assert caught.value.status == 503
            assert caught.value.code == "llm_unavailable"
            assert caught.value.retry_after is not None
            assert int(caught.value.retry_after) >= 1
        assert "circuit open" in caught.value.message
    finally:
        await llm.close()


async def test_the_fallback_message_answers_when_every_provider_fails(upstream: FakeUpstream) -> None:
    upstream.behaviour.fail_status = 500
    llm = providers(("a", upstream, "openai"), fallback_message="Try again later.")
    try:
        assert (await llm.chat(ASK)).content == "Try again later."
    finally:
        await llm.close()


async def test_a_malformed_answer_fails_over(upstream: FakeUpstream, second: FakeUpstream) -> None:
    upstream.behaviour.fail_status = None
    upstream.script.extend([Step(malformed=True)] * 3)
    llm = providers(("a", upstream, "openai"), ("b", second, "openai"))
    try:
        assert (await llm.chat(ASK)).provider == "b"
    finally:
        await llm.close()


async def test_anthropic_messages_plain_and_streamed(upstream: FakeUpstream) -> None:
    upstream.behaviour.reply = "Bonjour from Claude"
    llm = providers(("claude", upstream, "anthropic"))
    try:
        reply = await llm.chat([{"role": "system", "content": "Be brief."}, *ASK], max_tokens=50)
        assert reply.content == "Bonjour from Claude"
        assert reply.usage == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}
        assert upstream.paths[-1] == "/v1/messages"
        assert upstream.last_body["system"] == "Be brief."
        assert upstream.last_body["max_tokens"] == 50
        stream = llm.stream(ASK)
        text = "".join([d async for d in stream])
        assert text.strip() == "Bonjour from Claude"
        assert stream.usage["completion_tokens"] == 6
        assert stream.provider == "claude"
    finally:
        await llm.close()


async def test_a_stream_fails_over_before_its_first_delta_only(upstream: FakeUpstream, second: FakeUpstream) -> None:
    upstream.script.extend([Step(truncate_after=0)] * 3)
    llm = providers(("a", upstream, "openai"), ("b", second, "openai"))
    try:
        stream = llm.stream(ASK)
        assert "".join([d async for d in stream]).strip() == "second says hi"
        assert stream.provider == "b"
        assert stream.usage["total_tokens"] == 8  # asked with stream_options.include_usage
        second.script.append(Step(truncate_after=1))
        upstream.behaviour.fail_status = 500  # a is open anyway; b breaks after its first delta
        broken = llm.stream(ASK)
        got = []
        with pytest.raises(LLMError) as caught:
            await drain(broken, got)
        assert got == ["second "]
        assert caught.value.code == "upstream_stream_broken"
    finally:
        await llm.close()


async def test_a_stream_that_hangs_mid_way_ends_with_an_error(upstream: FakeUpstream) -> None:
    upstream.script.append(Step(hang_after=1))
    listed = [{"name": "a", "base_url": upstream.base_url, "model": "m", "timeout_s": 0.5}]
    llm = ProviderSet(LLMConfig.model_validate({"providers": listed, "retry": {"max_retries": 0}}))
    try:
        got = []
        with pytest.raises(LLMError) as caught:
            await drain(llm.stream(ASK), got)
        assert got == ["Hello "]
        assert caught.value.code == "upstream_stream_broken"
    finally:
        await llm.close()


async def test_a_connection_dropped_without_an_answer_is_retried(upstream: FakeUpstream) -> None:
    upstream.script.append(Step(drop=True))
    llm = providers(("a", upstream, "openai"))
    try:
        assert (await llm.chat(ASK)).content == "Hello from the fake upstream."
    finally:
        await llm.close()


async def test_a_pooled_connection_closed_by_the_upstream_is_not_a_failure() -> None:
    fake = FakeUpstream(Behaviour(keepalive_s=0.3)).start()
    llm = providers(("a", fake, "openai"), retry={"max_retries": 0})
    try:
        for _ in range(3):
            closed = fake.connections_closed
            assert (await llm.chat(ASK)).content
            await wait_until(lambda closed=closed: fake.connections_closed > closed)  # type: ignore[misc]
        assert fake.requests == 3
        assert llm.states() == {"a": "closed"}
    finally:
        await llm.close()
        fake.stop()


async def test_an_upstream_that_never_answers_times_out_and_fails_over(
    upstream: FakeUpstream, second: FakeUpstream
) -> None:
    upstream.script.append(Step(hang_after=0))
    listed = [{"name": "a", "base_url": upstream.base_url, "model": "m", "timeout_s": 0.3},
              {"name": "b", "base_url": second.base_url, "model": "m", "priority": 1}]  # fmt: skip
    llm = ProviderSet(LLMConfig.model_validate({"providers": listed, "retry": {"max_retries": 0}}))
    try:
        assert (await llm.chat(ASK)).provider == "b"
    finally:
        await llm.close()
