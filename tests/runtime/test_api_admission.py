"""The admission stages through real runtime processes and the official openai SDK: every
entrance runs auth -> rate limit -> budget -> cache -> pipeline -> settle in that order; API
keys, rate limits, the cache, budgets, costs, health and the request log each have a test."""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from e2e.fake_upstream import FakeUpstream, Step
from e2e.kube import wait_for
from evolved_runtime.english import translate

KEY = "sk-test-key-1"
HAIKU = [{"role": "user", "content": "Write a haiku about rain"}]
SYLLOGISM = [
    {"role": "user", "content": "All cats are mammals. All mammals are animals. Therefore, all cats are animals."}
]
STAGES = ["auth", "rate_limit", "budget", "cache", "pipeline", "settle"]


def config(upstream: FakeUpstream, **extra: Any) -> dict[str, Any]:
    return {"llm": {"base_url": upstream.base_url, "model": "m", "retry": {"base_s": 0.01}}, "auth": {"api_keys_env": "TEST_KEYS"},
            "limits": {"requests_per_minute": 1000}, "budgets": {"hourly_usd": 100}, "cache": {"enabled": True},
            **extra}  # fmt: skip


ENV = {"TEST_KEYS": f"{KEY},sk-other"}


def events(runtime: Any) -> list[dict[str, Any]]:
    out = []
    for line in runtime.process.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("message") == "request":
                out.append(event)
    return out


def event_for(runtime: Any, request_id: str) -> dict[str, Any]:
    wait_for(f"the log event of {request_id}", lambda: any(e["request_id"] == request_id for e in events(runtime)), 10)
    return next(e for e in events(runtime) if e["request_id"] == request_id)


def raw_post(runtime: Any, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """A POST with http.client (so headers such as Expect: 100-continue go out as given)."""
    connection = http.client.HTTPConnection("127.0.0.1", runtime.port, timeout=30)
    try:
        data = json.dumps(body).encode()
        connection.request("POST", "/v1/chat/completions", data, {"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("server", ["fast path", "FastAPI route"])
def test_every_entrance_runs_the_stages_in_order(start_runtime: Any, upstream: FakeUpstream, server: str) -> None:
    extra = {"server": {"gzip": True}} if server == "FastAPI route" else {}
    runtime = start_runtime(config(upstream, **extra), env=ENV)
    auth = {"Authorization": f"Bearer {KEY}"}
    entrances = {"plain": {}, "expect 100-continue (ASGI)": {"Expect": "100-continue"}}
    for name, headers in entrances.items():
        rid = f"{server}-{name}".replace(" ", "-")
        status, _, _ = raw_post(
            runtime, {"model": "t", "messages": HAIKU}, {**headers, "X-Request-ID": rid + "-no-key"}
        )
        assert status == 401, name
        assert event_for(runtime, rid + "-no-key")["stages"] == ["auth", "settle"]
        body = {"model": "t", "messages": [{"role": "user", "content": f"Write a haiku ({name})"}]}
        status, got, payload = raw_post(runtime, body, {**auth, **headers, "X-Request-ID": rid})
        assert status == 200, payload
        assert got["x-request-id"] == rid
        assert event_for(runtime, rid)["stages"] == STAGES
        status, got, _ = raw_post(runtime, body, {**auth, **headers, "X-Request-ID": rid + "-again"})
        assert got["x-evolved-cache"] == "memory"
        assert event_for(runtime, rid + "-again")["stages"] == ["auth", "rate_limit", "budget", "cache", "settle"]
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    chunks = list(client.chat.completions.create(model="t", messages=HAIKU, stream=True,  # type: ignore[arg-type]
                                                 extra_headers={"X-Request-ID": f"{server}-stream"}))  # fmt: skip
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip()
        == "Hello from the fake upstream."
    )
    event = event_for(runtime, f"{server}-stream")
    assert event["stages"] == STAGES
    assert event["tokens"] == 8  # the stream's usage, asked from the upstream
    assert event["provider"] == "default"


def test_api_keys_guard_chat_models_and_costs_but_not_probes(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream), env=ENV)
    with pytest.raises(openai.AuthenticationError) as caught:
        OpenAI(base_url=runtime.base_url, api_key="sk-wrong", max_retries=0).chat.completions.create(
            model="t",
            messages=HAIKU,  # type: ignore[arg-type]
        )
    assert caught.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    assert "sk-wrong" not in str(caught.value.body)
    assert [m.id for m in OpenAI(base_url=runtime.base_url, api_key="sk-other").models.list()] == ["evolved"]
    for path in ("/v1/models", "/costs", "/config"):
        assert runtime.get(path)[0] == 401, path
    for path in ("/health", "/ready", "/metrics"):
        assert runtime.get(path)[0] == 200, path
    assert KEY not in runtime.process.log_path.read_text()


def test_a_caller_over_its_request_rate_gets_429_with_retry_after(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream, limits={"requests_per_minute": 3, "key": "user"}), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    for _ in range(3):
        client.chat.completions.create(model="t", messages=SYLLOGISM, user="ann")  # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="t", messages=SYLLOGISM, user="ann")  # type: ignore[arg-type]
    assert caught.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert int(caught.value.response.headers["retry-after"]) >= 1
    # another user (here by header) has a limit of their own
    client.chat.completions.create(model="t", messages=SYLLOGISM, extra_headers={"x-evolved-user": "bob"})  # type: ignore[arg-type]
    metrics = runtime.get("/metrics")[1].decode()
    assert 'evolved_admission_refused_total{reason="requests",stage="rate_limit"} 1.0' in metrics


def test_a_caller_over_its_token_rate_gets_429(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream, limits={"tokens_per_minute": 10}, cache={"enabled": False}), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    client.chat.completions.create(model="t", messages=HAIKU)  # type: ignore[arg-type]  # 8 tokens
    client.chat.completions.create(model="t", messages=HAIKU)  # type: ignore[arg-type]  # 16: now over
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="t", messages=HAIKU)  # type: ignore[arg-type]
    assert "tokens per minute" in caught.value.body["message"]  # type: ignore[index]


def test_the_cache_serves_repeats_counts_hits_and_honours_no_cache(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    first = client.chat.completions.with_raw_response.create(model="t", messages=HAIKU, temperature=0)  # type: ignore[arg-type]
    assert first.headers["x-evolved-cache"] == "miss"
    again = client.chat.completions.with_raw_response.create(
        model="t", messages=[{"role": "user", "content": " Write a haiku  about rain"}], temperature=0
    )  # type: ignore[arg-type]
    assert again.headers["x-evolved-cache"] == "memory"
    assert again.parse().choices[0].message.content == first.parse().choices[0].message.content
    other = client.chat.completions.with_raw_response.create(model="t", messages=HAIKU, temperature=1)  # type: ignore[arg-type]
    assert other.headers["x-evolved-cache"] == "miss"
    skipped = client.chat.completions.with_raw_response.create(model="t", messages=HAIKU, temperature=0,  # type: ignore[arg-type]
                                                               extra_headers={"Cache-Control": "no-cache"})  # fmt: skip
    assert skipped.headers["x-evolved-cache"] == "bypass"
    assert upstream.requests == 3
    streamed = list(client.chat.completions.create(model="t", messages=HAIKU, temperature=0, stream=True))  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Hello from the fake upstream."
    assert upstream.requests == 3  # a cached answer streams too
    metrics = runtime.get("/metrics")[1].decode()
    assert 'evolved_cache_lookups_total{level="memory",result="hit"} 2.0' in metrics


def test_over_budget_the_solvers_still_answer_and_the_llm_gets_429(start_runtime: Any, upstream: FakeUpstream) -> None:
    priced = {"providers": [{"name": "p", "base_url": upstream.base_url, "model": "m",
                             "input_usd_per_mtok": 100_000, "output_usd_per_mtok": 100_000}]}  # fmt: skip
    runtime = start_runtime(
        config(upstream, llm=priced, budgets={"hourly_usd": 0.5}, cache={"enabled": False}), env=ENV
    )
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    client.chat.completions.create(model="t", messages=HAIKU, max_tokens=5)  # type: ignore[arg-type]  # costs $0.8
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="t", messages=HAIKU, max_tokens=5)  # type: ignore[arg-type]
    assert caught.value.body["code"] == "budget_exceeded"  # type: ignore[index]
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 3601  # docs/runtime.md: with Retry-After
    assert client.chat.completions.create(model="t", messages=SYLLOGISM).choices[0].message.content.startswith("VALID")  # type: ignore[arg-type,union-attr]
    metrics = runtime.get("/metrics")[1].decode()
    assert 'evolved_budget_alert{window="hour"} 1.0' in metrics
    assert "budget alert" in runtime.process.log_path.read_text()


def test_a_per_key_budget_stops_the_llm_calls_of_a_translation_program(
    start_runtime: Any, upstream: FakeUpstream, tmp_path: Path
) -> None:
    # the translation asks the LLM for SymIL; its calls are the caller's: priced, budgeted, refused
    problem = translate(SYLLOGISM[0]["content"], 1)
    assert problem is not None
    upstream.behaviour.reply = problem.model_dump_json()
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "router.py").write_text(
        "def route(prompt, context):\n    return {'tier': 1, 'symil_level': 3, 'profile_name': 'syllogism'}\n"
    )
    (programs / "translation.py").write_text(
        "import json\n\ndef translate(prompt, level, hints, llm):\n"
        "    return None if llm is None else json.loads(llm.complete(prompt))\n"
    )
    priced = {"providers": [{"name": "p", "base_url": upstream.base_url, "model": "m",
                             "input_usd_per_mtok": 100_000, "output_usd_per_mtok": 100_000}]}  # fmt: skip
    runtime = start_runtime(config(upstream, llm=priced, programs_dir=str(programs), cache={"enabled": False},
                                   budgets={"per_key_hourly_usd": 0.5}), env=ENV)  # fmt: skip
    spender = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    first = spender.chat.completions.create(model="t", messages=SYLLOGISM)  # type: ignore[arg-type]  # costs $0.8
    assert first.choices[0].message.content.startswith("VALID")  # type: ignore[union-attr]
    calls = upstream.requests
    with pytest.raises(openai.RateLimitError) as caught:
        spender.chat.completions.create(model="t", messages=SYLLOGISM)  # type: ignore[arg-type]
    assert caught.value.body["code"] == "budget_exceeded"  # type: ignore[index]
    assert "key budget" in caught.value.body["message"]  # type: ignore[index]
    assert upstream.requests == calls  # neither the translation nor Tier 0 reached the provider
    other = OpenAI(base_url=runtime.base_url, api_key="sk-other", max_retries=0)
    assert other.chat.completions.create(model="t", messages=SYLLOGISM).choices[0].message.content.startswith("VALID")  # type: ignore[arg-type,union-attr]
    costs = spender._client.get(f"{runtime.url}/costs", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert [(row["tier"], row["requests"]) for row in costs["data"]] == [("1", 2)]  # the requests' own tier


def test_a_budget_crossed_by_concurrent_requests_overspends_by_at_most_one_estimate(
    start_runtime: Any, upstream: FakeUpstream
) -> None:
    # each call costs $0.1 (8 tokens at 12,500 $/Mtok) and is estimated at about the same; 20 at once
    # against $0.5: five fit, the one that crosses may finish, the rest are refused
    upstream.behaviour.delay_s = 0.5
    priced = {"providers": [{"name": "p", "base_url": upstream.base_url, "model": "m", "max_tokens": 5,
                             "input_usd_per_mtok": 12_500, "output_usd_per_mtok": 12_500}]}  # fmt: skip
    runtime = start_runtime(
        config(upstream, llm=priced, budgets={"hourly_usd": 0.5}, cache={"enabled": False}), env=ENV
    )
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    outcomes: list[str] = []

    def ask(i: int) -> None:
        try:
            client.chat.completions.create(model="t", messages=[{"role": "user", "content": f"Poem {i:02d}"}])  # type: ignore[arg-type]
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 20
    assert 4 <= outcomes.count("ok") <= 6, outcomes
    costs = json.loads(OpenAI(base_url=runtime.base_url, api_key=KEY)._client.get(
        f"{runtime.url}/costs", headers={"Authorization": f"Bearer {KEY}"}).content)  # fmt: skip
    assert costs["total_usd"] <= 0.5 + 0.1 + 1e-9


def test_costs_and_tokens_by_provider_model_variant_and_tier(start_runtime: Any, upstream: FakeUpstream) -> None:
    priced = {"providers": [{"name": "p", "base_url": upstream.base_url, "model": "m",
                             "input_usd_per_mtok": 1, "output_usd_per_mtok": 2}]}  # fmt: skip
    runtime = start_runtime(config(upstream, llm=priced, cache={"enabled": False}), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    for _ in range(2):
        client.chat.completions.create(model="t", messages=HAIKU)  # type: ignore[arg-type]
    client.chat.completions.create(model="t", messages=SYLLOGISM)  # type: ignore[arg-type]  # a solver: no cost
    response = client._client.get(f"{runtime.url}/costs", headers={"Authorization": f"Bearer {KEY}"})
    report = response.json()
    assert report["data"] == [{"provider": "p", "model": "m", "variant": "v1", "tier": "0", "requests": 2,
                               "input_tokens": 6, "output_tokens": 10, "cost_usd": 2.6e-05}]  # fmt: skip
    metrics = runtime.get("/metrics")[1].decode()
    assert 'evolved_llm_tokens_total{kind="output",model="m",provider="p",tier="0",variant="v1"} 10.0' in metrics
    assert 'evolved_llm_cost_usd_total{model="m",provider="p",tier="0",variant="v1"} 2.6e-05' in metrics


def test_every_provider_down_solvers_still_answer_and_health_says_unhealthy(
    start_runtime: Any, upstream: FakeUpstream
) -> None:
    upstream.behaviour.fail_status = 503
    llm = {"providers": [{"name": "only", "base_url": upstream.base_url, "model": "m"}],
           "retry": {"max_retries": 0}, "breaker": {"failures": 2}}  # fmt: skip
    runtime = start_runtime(config(upstream, llm=llm), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    for i in range(3):
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="t", messages=HAIKU, extra_headers={"X-Request-ID": f"down-{i}"})  # type: ignore[arg-type]
        assert caught.value.status_code == 503
        assert caught.value.body["code"] == "llm_unavailable"  # type: ignore[index]
        assert int(caught.value.response.headers["retry-after"]) >= 1
    assert upstream.requests == 2  # the third was kept away by the open circuit
    event = event_for(runtime, "down-0")
    assert (event["status"], event["error"], event["error_class"]) == (503, "llm_unavailable", "retriable")
    assert client.chat.completions.create(model="t", messages=SYLLOGISM).choices[0].message.content.startswith("VALID")  # type: ignore[arg-type,union-attr]
    status, body = runtime.get("/health")
    health = json.loads(body)
    assert status == 200  # liveness never fails for an upstream's outage
    assert health["status"] == "unhealthy"
    assert health["circuits"] == {"only": "open"}
    metrics = runtime.get("/metrics")[1].decode()
    assert 'evolved_llm_circuit_state{provider="only"} 2.0' in metrics
    assert 'evolved_llm_calls_total{class="retriable",outcome="upstream_error",provider="only"} 2.0' in metrics


def test_a_client_that_goes_away_cancels_the_upstream_stream(start_runtime: Any, upstream: FakeUpstream) -> None:
    upstream.behaviour.reply = " ".join(f"w{i}" for i in range(200))
    upstream.script.append(Step(chunk_delay_s=0.05))
    runtime = start_runtime(config(upstream), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    stream = client.chat.completions.create(model="t", messages=HAIKU, stream=True)  # type: ignore[arg-type]
    first = [c.choices[0].delta.content for c, _ in zip(stream, range(4), strict=False) if c.choices]
    assert "w0 " in first
    stream.close()
    wait_for("the upstream to see its stream abandoned", lambda: upstream.streams_abandoned == 1, timeout=10)


def test_a_stream_broken_upstream_ends_with_an_error_event(start_runtime: Any, upstream: FakeUpstream) -> None:
    upstream.script.append(Step(truncate_after=2))
    runtime = start_runtime(config(upstream), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    got: list[str | None] = []

    def read() -> None:
        for chunk in client.chat.completions.create(model="t", messages=HAIKU, stream=True):  # type: ignore[arg-type]
            got.append(chunk.choices[0].delta.content if chunk.choices else None)

    with pytest.raises(openai.APIError) as caught:
        read()
    assert "stream broke" in str(caught.value)
    assert "Hello " in got


def test_one_request_event_a_line_without_the_prompt(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    client.chat.completions.create(model="t", messages=HAIKU, extra_headers={"X-Request-ID": "log-1"})  # type: ignore[arg-type]
    event = event_for(runtime, "log-1")
    assert {"time", "level", "pipeline", "variant", "tier", "provider", "latency_ms", "tokens", "cost_usd",
            "cache", "status"} <= set(event)  # fmt: skip
    assert (event["pipeline"], event["variant"], event["tier"], event["status"]) == ("test", "v1", "0", 200)
    assert "haiku" not in runtime.process.log_path.read_text()


def test_deltas_reach_the_client_while_the_upstream_is_still_sending(
    start_runtime: Any, upstream: FakeUpstream
) -> None:
    upstream.behaviour.reply = " ".join(f"w{i}" for i in range(30))
    upstream.script.append(Step(chunk_delay_s=0.1))
    runtime = start_runtime(config(upstream), env=ENV)
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    stream = client.chat.completions.create(model="t", messages=HAIKU, stream=True)  # type: ignore[arg-type]
    seen_while_sending = False
    text = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text.append(chunk.choices[0].delta.content)
            seen_while_sending |= upstream.in_flight == 1
    assert seen_while_sending, "no delta arrived before the upstream had sent its whole answer"
    assert "".join(text).split() == [f"w{i}" for i in range(30)]


def test_failover_to_an_anthropic_provider_through_the_openai_sdk(start_runtime: Any, upstream: FakeUpstream) -> None:
    from e2e.fake_upstream import Behaviour

    claude = FakeUpstream(Behaviour(reply="Claude answers")).start()
    try:
        upstream.behaviour.fail_status = 500
        llm = {"providers": [{"name": "gpt", "base_url": upstream.base_url, "model": "m"},
                             {"name": "claude", "type": "anthropic", "base_url": claude.base_url, "model": "haiku",
                              "priority": 1}],
               "retry": {"max_retries": 1, "base_s": 0.01}}  # fmt: skip
        runtime = start_runtime(config(upstream, llm=llm), env=ENV)
        client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
        reply = client.chat.completions.create(model="t", messages=HAIKU, extra_headers={"X-Request-ID": "fo-1"})  # type: ignore[arg-type]
        assert reply.choices[0].message.content == "Claude answers"
        assert reply.usage is not None
        assert reply.usage.total_tokens == 10
        assert upstream.requests == 2  # the first try and one retry
        assert claude.paths == ["/v1/messages"]
        assert event_for(runtime, "fo-1")["provider"] == "claude"
        chunks = list(client.chat.completions.create(model="t", messages=HAIKU, stream=True,  # type: ignore[arg-type]
                                                     extra_headers={"Cache-Control": "no-cache"}))  # fmt: skip
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip() == "Claude answers"
    finally:
        claude.stop()
