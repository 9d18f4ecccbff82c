"""The OpenAI-compatible API through the official openai SDK, sync and async, plain and streamed."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from e2e.fake_upstream import FakeUpstream

SYLLOGISM = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."


def evolved(obj: Any) -> dict[str, Any]:
    return dict((obj.model_extra or {})["evolved"])


def test_a_syllogism_is_answered_by_a_solver_with_the_evolved_object(start_runtime: Any) -> None:
    runtime = start_runtime()
    client = OpenAI(base_url=runtime.base_url, api_key="unused")
    reply = client.chat.completions.create(model="test", messages=[{"role": "user", "content": SYLLOGISM}])
    assert reply.choices[0].message.content.startswith("VALID")
    info = evolved(reply)
    assert info["tier"] == 1
    assert info["verdict"] == "VALID"
    assert info["solver"] == "clingo"  # the syllogism profile prefers Clingo
    assert set(info["program_hashes"]) == {"router", "translation", "profiles"}
    assert {"route", "translate", "solve"} <= set(info["timings_ms"])


async def test_a_streamed_answer_ends_with_the_evolved_object_and_done(start_runtime: Any) -> None:
    runtime = start_runtime()
    client = AsyncOpenAI(base_url=runtime.base_url, api_key="unused")
    stream = await client.chat.completions.create(
        model="test", messages=[{"role": "user", "content": "Solve 3x + 5 = 20"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("SAT")
    assert "x = 5" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert evolved(chunks[-1])["verdict"] == "SAT"


def test_formal_input_needs_no_translation_and_a_portfolio_reports_agreement(start_runtime: Any) -> None:
    runtime = start_runtime()
    client = OpenAI(base_url=runtime.base_url, api_key="unused")
    asp = "```asp\nnode(1..3). edge(1,2). edge(2,3). col(r). col(g).\n1 { c(N,C) : col(C) } 1 :- node(N).\n:- edge(A,B), c(A,C), c(B,C).\n```"
    reply = client.chat.completions.create(model="test", messages=[{"role": "user", "content": asp}])
    info = evolved(reply)
    assert info["formal_input"] is True
    assert info["solver"] == "clingo"
    assert "translate" not in info["timings_ms"]
    both = client.chat.completions.create(
        model="test", messages=[{"role": "user", "content": SYLLOGISM}], extra_body={"metadata": {"tier": 2}}
    )
    info = evolved(both)
    assert info["tier"] == 2
    assert set(info["solvers"]) == {"z3", "clingo"}
    assert info["agree"] is True


def test_models_lists_the_pipeline_model(start_runtime: Any) -> None:
    runtime = start_runtime({"model_name": "quickstart"})
    client = OpenAI(base_url=runtime.base_url, api_key="unused")
    assert [m.id for m in client.models.list()] == ["quickstart"]


def test_an_untranslatable_question_without_an_llm_is_a_clear_503_not_a_guess(start_runtime: Any) -> None:
    runtime = start_runtime()
    client = OpenAI(base_url=runtime.base_url, api_key="unused", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="test", messages=[{"role": "user", "content": "Write a haiku about rain."}]
        )
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "no_llm_configured"  # type: ignore[index]
    # a division with no exact decimal inverse: 1/3 as 0.3333333333333333 answered "x / 3 = 1" with
    # "x = 10000000000000000/3333333333333333 (the only solution)"; by 4 it reads exactly
    for question in ("Solve x / 3 = 1", "Solve x / 0.3 = 1", "Solve 1/7x = 1"):
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="test", messages=[{"role": "user", "content": question}])
        assert caught.value.status_code == 503, question
    answer = client.chat.completions.create(model="test", messages=[{"role": "user", "content": "Solve x / 4 = 1"}])
    assert answer.choices[0].message.content == "SAT: x = 4 (the only solution)"


def test_tier_0_goes_to_the_llm_plain_and_streamed(start_runtime: Any, upstream: FakeUpstream) -> None:
    upstream.behaviour.reply = "Rain on the tin roof"
    runtime = start_runtime({"llm": {"base_url": upstream.base_url, "model": "fake-model"}})
    client = OpenAI(base_url=runtime.base_url, api_key="unused")
    reply = client.chat.completions.create(model="test", messages=[{"role": "user", "content": "Write a haiku"}])
    assert reply.choices[0].message.content == "Rain on the tin roof"
    assert evolved(reply)["tier"] == 0
    assert upstream.last_body["model"] == "fake-model"
    chunks = list(
        client.chat.completions.create(
            model="test", messages=[{"role": "user", "content": "Write a haiku"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip() == "Rain on the tin roof"
    assert evolved(chunks[-1])["tier"] == 0


def test_the_request_id_is_echoed_and_the_tier_is_in_a_header(start_runtime: Any) -> None:
    runtime = start_runtime()
    body = json.dumps({"model": "t", "messages": [{"role": "user", "content": SYLLOGISM}]}).encode()
    status, _, headers = runtime.post("/v1/chat/completions", body, {"X-Request-ID": "req-42"})
    assert status == 200
    assert headers["x-request-id"] == "req-42"
    assert headers["x-evolved-tier"] == "1"
    # a request ID is a label, not a payload: a 60 KB one was echoed in the header, the answer's id
    # and every log line of the request; past 128 characters the runtime makes its own
    status, payload, headers = runtime.post("/v1/chat/completions", body, {"X-Request-ID": "r" * 60_000})
    assert status == 200
    assert len(headers["x-request-id"]) == 32
    assert payload["id"] == "chatcmpl-" + headers["x-request-id"]
