"""The semantic cache through a real runtime worker in front of the fake upstream, with the official
openai SDK as client: a paraphrase of an LLM (Tier 0) question gets the cached answer, an unrelated
prompt (or different numbers) does not, a solver question is never served semantically, a request
can opt out, and the level is off unless configured."""

from __future__ import annotations

from typing import Any

from openai import OpenAI

from e2e.fake_upstream import FakeUpstream, Step
from tests.runtime.test_api_admission import event_for

CAPITAL = "What is the capital of France?"
PARAPHRASE = "what's the capital city of France?"
SYLLOGISM = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."
SYLLOGISM_REWORDED = "All cats are mammals, and all mammals are animals; therefore all cats are animals."


def config(upstream: FakeUpstream, semantic: dict[str, Any] | None = None) -> dict[str, Any]:
    cache: dict[str, Any] = {"enabled": True}
    if semantic is not None:
        cache["semantic"] = semantic
    return {"llm": {"base_url": upstream.base_url, "model": "m", "retry": {"base_s": 0.01}}, "cache": cache}


def ask(client: OpenAI, prompt: str, **extra: Any) -> tuple[str, str, str]:
    """(the answer, X-Evolved-Cache, X-Evolved-Tier)."""
    raw = client.chat.completions.with_raw_response.create(
        model="t", messages=[{"role": "user", "content": prompt}], temperature=0, **extra
    )
    return raw.parse().choices[0].message.content or "", raw.headers["x-evolved-cache"], raw.headers["x-evolved-tier"]


def test_a_paraphrase_gets_the_cached_llm_answer(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream, {"enabled": True}))
    client = OpenAI(base_url=runtime.base_url, api_key="none", max_retries=0)
    upstream.script.extend([Step(reply="Paris."), Step(reply="Berlin."), Step(reply="Knead it.")])
    assert ask(client, CAPITAL) == ("Paris.", "miss", "0")
    assert ask(client, PARAPHRASE, extra_headers={"X-Request-ID": "paraphrase"}) == ("Paris.", "semantic", "0")
    assert upstream.requests == 1
    assert 0.92 <= event_for(runtime, "paraphrase")["similarity"] < 1
    assert ask(client, CAPITAL) == ("Paris.", "memory", "0")  # the exact level still answers first
    assert ask(client, "What is the capital of Germany?") == ("Berlin.", "miss", "0")  # similar, not enough
    assert ask(client, "How do I bake bread at home?") == ("Knead it.", "miss", "0")
    assert upstream.requests == 3
    streamed = client.chat.completions.create(
        model="t",
        messages=[{"role": "user", "content": "Which city is the capital of France?"}],
        temperature=0,
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Paris."
    other_params = ask(client, PARAPHRASE, max_tokens=5)  # other sampling parameters: another bucket
    assert other_params[1] == "miss"
    assert upstream.requests == 4
    metrics = runtime.get("/metrics")[1].decode()
    assert 'evolved_cache_lookups_total{level="semantic",result="hit"} 2.0' in metrics
    assert 'evolved_cache_lookups_total{level="semantic",result="miss"} 4.0' in metrics


def test_different_numbers_are_not_a_paraphrase(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream, {"enabled": True}))
    client = OpenAI(base_url=runtime.base_url, api_key="none", max_retries=0)
    upstream.script.extend([Step(reply="391"), Step(reply="408")])
    assert ask(client, "What is 17 times 23?") == ("391", "miss", "0")
    assert ask(client, "What is 17 times 24?") == ("408", "miss", "0")
    assert upstream.requests == 2


def test_a_solver_question_is_never_served_semantically(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(config(upstream, {"enabled": True, "threshold": 0.5}))
    client = OpenAI(base_url=runtime.base_url, api_key="none", max_retries=0)
    answer, level, tier = ask(client, SYLLOGISM)
    assert (level, tier) == ("miss", "1")
    again, level, tier = ask(client, SYLLOGISM_REWORDED)  # far above the threshold, but a solver answer
    assert (level, tier) == ("miss", "1")
    assert ask(client, SYLLOGISM) == (answer, "memory", "1")  # solver answers are cached exactly
    assert upstream.requests == 0
    assert again


def test_a_request_opts_out_and_the_level_is_off_by_default(start_runtime: Any, upstream: FakeUpstream) -> None:
    on = start_runtime(config(upstream, {"enabled": True}))
    client = OpenAI(base_url=on.base_url, api_key="none", max_retries=0)
    assert ask(client, CAPITAL)[1] == "miss"
    assert ask(client, PARAPHRASE, extra_headers={"Cache-Control": "no-cache"})[1] == "bypass"
    assert upstream.requests == 2
    off = start_runtime(config(upstream))
    client = OpenAI(base_url=off.base_url, api_key="none", max_retries=0)
    assert ask(client, CAPITAL)[1] == "miss"
    assert ask(client, PARAPHRASE)[1] == "miss"
    assert upstream.requests == 4
    assert off.get("/config")[1].count(b'"semantic":{"enabled":false') == 1


def test_a_question_for_the_solvers_worded_like_a_cached_llm_one_goes_to_the_solvers(
    start_runtime: Any, upstream: FakeUpstream
) -> None:
    """The router program decides before the semantic level may answer: a prompt it sends to the
    solvers is never given an LLM answer, however close its wording to a cached one."""
    runtime = start_runtime(config(upstream, {"enabled": True, "threshold": 0.5}))
    client = OpenAI(base_url=runtime.base_url, api_key="none", max_retries=0)
    upstream.script.extend([Step(reply="Because cats are mammals.")])
    assert ask(client, "Write a poem: all cats are mammals, and all mammals are animals.")[1:] == ("miss", "0")
    answer, level, tier = ask(client, SYLLOGISM)
    assert (level, tier) == ("miss", "1")
    assert answer.startswith("VALID")
