"""Tier 0 against a real (fake) OpenAI-compatible upstream: errors mapped, stale connections survived."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

from e2e.fake_upstream import FakeUpstream
from e2e.kube import wait_for

ASK = [{"role": "user", "content": "Tell me about the weather"}]


def client(runtime: Any) -> OpenAI:
    return OpenAI(base_url=runtime.base_url, api_key="unused", max_retries=0)


@pytest.mark.parametrize(
    ("upstream_status", "status", "code"),
    [(500, 503, "llm_unavailable"), (503, 503, "llm_unavailable"), (400, 502, "upstream_rejected")],
)
def test_upstream_failures_become_openai_style_gateway_errors(
    start_runtime: Any, upstream: FakeUpstream, upstream_status: int, status: int, code: str
) -> None:
    upstream.behaviour.fail_status = upstream_status
    runtime = start_runtime({"llm": {"base_url": upstream.base_url, "model": "m"}})
    with pytest.raises(openai.APIStatusError) as caught:
        client(runtime).chat.completions.create(model="t", messages=ASK)  # type: ignore[arg-type]
    assert caught.value.status_code == status
    assert caught.value.body["code"] == code  # type: ignore[index]


def test_upstream_rate_limits_pass_through_with_retry_after(start_runtime: Any, upstream: FakeUpstream) -> None:
    upstream.behaviour.fail_status = 429
    upstream.behaviour.retry_after = "7"
    runtime = start_runtime({"llm": {"base_url": upstream.base_url, "model": "m"}})
    with pytest.raises(openai.RateLimitError) as caught:
        client(runtime).chat.completions.create(model="t", messages=ASK)  # type: ignore[arg-type]
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]


def test_an_unreachable_upstream_is_a_503_naming_the_cause(start_runtime: Any) -> None:
    runtime = start_runtime({"llm": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}})
    with pytest.raises(openai.APIStatusError) as caught:
        client(runtime).chat.completions.create(model="t", messages=ASK)  # type: ignore[arg-type]
    assert caught.value.status_code == 503
    assert "cannot reach provider default" in caught.value.body["message"]  # type: ignore[index]


def test_a_slow_upstream_is_a_503_saying_it_timed_out(start_runtime: Any, upstream: FakeUpstream) -> None:
    upstream.behaviour.delay_s = 3
    runtime = start_runtime({"llm": {"base_url": upstream.base_url, "model": "m", "timeout_s": 0.5,
                                     "retry": {"max_retries": 0}}})  # fmt: skip
    with pytest.raises(openai.APIStatusError) as caught:
        client(runtime).chat.completions.create(model="t", messages=ASK)  # type: ignore[arg-type]
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "llm_unavailable"  # type: ignore[index]
    assert "did not answer within 0.5s" in caught.value.body["message"]  # type: ignore[index]


def test_a_connection_the_upstream_closed_while_idle_does_not_fail_the_next_request(start_runtime: Any) -> None:
    fake = FakeUpstream()
    fake.behaviour.keepalive_s = 0.5
    fake.start()
    try:
        runtime = start_runtime({"llm": {"base_url": fake.base_url, "model": "m"}})
        api = client(runtime)
        for _ in range(3):
            closed = fake.connections_closed
            assert api.chat.completions.create(model="t", messages=ASK).choices[0].message.content  # type: ignore[arg-type]
            wait_for(
                "the upstream to close the idle connection",
                lambda closed=closed: fake.connections_closed > closed,
                timeout=10,
            )
        assert fake.requests == 3
    finally:
        fake.stop()
