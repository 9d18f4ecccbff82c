"""The pipeline in-process: real programs, a real solver pool, a fake OpenAI-compatible upstream as the LLM."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.fake_upstream import Behaviour, FakeUpstream
from evolved_runtime.config import LLMConfig, PipelineConfig
from evolved_runtime.english import translate
from evolved_runtime.llm.openai_compat import OpenAICompatLLM
from evolved_runtime.pipeline import ChatTurn, Pipeline, PipelineError, PipelineResult
from evolved_runtime.programs import load_programs
from evolved_runtime.solvers.pool import SolverPool

SYLLOGISM = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."
SMT = "```smt2\n(declare-const x Int)\n(assert (= (+ (* 3 x) 5) 20))\n(check-sat)\n```"
ASP = "```asp\nnode(1..3). edge(1,2). edge(2,3). col(r). col(g).\n1 { c(N,C) : col(C) } 1 :- node(N).\n:- edge(A,B), c(A,C), c(B,C).\n```"
FERMAT = (
    "```smt2\n(declare-const x Int)\n(declare-const y Int)\n(declare-const z Int)\n"
    "(assert (and (> x 0) (> y 0) (> z 0)))\n(assert (= (+ (* x x x) (* y y y)) (* z z z)))\n(check-sat)\n```"
)
OUT_OF_GRAMMAR = "Most birds can fly. Tweety is a bird. Can Tweety fly?"

MakePipeline = Callable[..., Pipeline]


def user(text: str) -> list[ChatTurn]:
    return [ChatTurn(role="user", content=text)]


async def ask(pipeline: Pipeline, text: str | list[ChatTurn], **params: Any) -> PipelineResult:
    messages = user(text) if isinstance(text, str) else text
    return await pipeline.run(messages, stream=False, request_id="test", params=params)


async def fails(pipeline: Pipeline, text: str | list[ChatTurn], **params: Any) -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        await ask(pipeline, text, **params)
    return caught.value


def programs_dir(tmp_path: Path, **sources: str) -> Path:
    """A program directory holding the given components (the others fall back to the defaults)."""
    directory = tmp_path / "programs"
    directory.mkdir(exist_ok=True)
    for component, source in sources.items():
        (directory / f"{component}.py").write_text(source)
    return directory


@pytest.fixture
async def pool() -> AsyncIterator[SolverPool]:
    p = SolverPool(size=2, timeout_ms=2000, memory_mb=512)
    await p.start()
    yield p
    await p.close()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream(Behaviour(reply="The LLM says hello.")).start()
    yield fake
    fake.stop()


@pytest.fixture
async def make_pipeline(pool: SolverPool) -> AsyncIterator[MakePipeline]:
    made: list[tuple[Pipeline, OpenAICompatLLM | None]] = []

    def make(
        directory: Path | None = None, upstream: FakeUpstream | None = None, solver_pool: SolverPool | None = None,
        **options: Any,
    ) -> Pipeline:  # fmt: skip
        llm_config = LLMConfig(base_url=upstream.base_url, model="fake-model") if upstream else None
        llm = OpenAICompatLLM(llm_config) if llm_config else None
        config = PipelineConfig(llm=llm_config, programs_dir=str(directory) if directory else None)
        pipeline = Pipeline(config, load_programs(directory), solver_pool or pool, llm, **options)
        made.append((pipeline, llm))
        return pipeline

    yield make
    for pipeline, llm in made:
        pipeline.close()
        if llm is not None:
            await llm.close()


# -- the solver path without an LLM -------------------------------------------------------------


async def test_a_syllogism_is_answered_by_a_solver_with_no_llm(make_pipeline: MakePipeline) -> None:
    result = await ask(make_pipeline(), SYLLOGISM)
    info = result.evolved
    assert result.content is not None
    assert result.content.startswith("VALID")
    assert (info.tier, info.verdict, info.symil_level, info.profile) == (1, "VALID", 1, "syllogism")
    assert info.solver == "clingo"  # the syllogism profile's solver
    assert set(info.program_hashes) == {"router", "translation", "profiles"}
    assert {"route", "translate", "solve"} <= set(info.timings_ms)
    assert info.escalations == []


async def test_arithmetic_goes_to_z3_and_the_answer_carries_the_model(make_pipeline: MakePipeline) -> None:
    result = await ask(make_pipeline(), "Solve 3x + 5 = 20")
    assert result.evolved.verdict == "SAT"
    assert result.evolved.solver == "z3"
    assert result.content is not None
    assert "x = 5" in result.content


async def test_smtlib_input_needs_no_translation_and_no_llm(make_pipeline: MakePipeline) -> None:
    result = await ask(make_pipeline(), f"Is this satisfiable?\n{SMT}")
    info = result.evolved
    assert (info.tier, info.solver, info.verdict, info.formal_input) == (1, "z3", "SAT", True)
    assert "translate" not in info.timings_ms


async def test_asp_input_goes_to_clingo(make_pipeline: MakePipeline) -> None:
    result = await ask(make_pipeline(), ASP)
    assert (result.evolved.solver, result.evolved.verdict) == ("clingo", "SAT")


async def test_tier_2_runs_both_solvers_and_reports_that_they_agree(make_pipeline: MakePipeline) -> None:
    result = await ask(make_pipeline(), SYLLOGISM, tier=2)
    info = result.evolved
    assert info.tier == 2
    assert sorted(info.solvers) == ["clingo", "z3"]
    assert info.agree is True
    assert info.verdict == "VALID"


async def test_a_tier_hint_may_be_a_string_as_openai_metadata_values_are(make_pipeline: MakePipeline) -> None:
    assert (await ask(make_pipeline(), SYLLOGISM, tier="2")).evolved.tier == 2
    error = await fails(make_pipeline(), SYLLOGISM, tier="fast")
    assert (error.status, error.code) == (400, "invalid_tier_hint")


async def test_invalid_symil_json_is_a_400_with_the_parse_message(make_pipeline: MakePipeline) -> None:
    error = await fails(make_pipeline(), '```symil\n{"premises": [{"op": "atom", "pred": "cat"}]}\n```')
    assert (error.status, error.code) == (400, "invalid_formal_input")
    assert "premises.0" in error.message


async def test_smtlib_that_does_not_parse_is_a_400_with_the_parse_message(make_pipeline: MakePipeline) -> None:
    error = await fails(make_pipeline(), "```smt2\n(assert (> x\n(check-sat)\n```")
    assert (error.status, error.code) == (400, "invalid_formal_input")
    assert "parse error" in error.message


async def test_a_chat_question_with_no_llm_is_503_no_llm_configured(make_pipeline: MakePipeline) -> None:
    error = await fails(make_pipeline(), "Write a haiku about autumn.")
    assert (error.status, error.code) == (503, "no_llm_configured")
    assert "no LLM is configured" in error.message


async def test_a_logic_question_nothing_can_translate_is_503_not_a_guess(make_pipeline: MakePipeline) -> None:
    error = await fails(make_pipeline(), OUT_OF_GRAMMAR)
    assert (error.status, error.code) == (503, "no_llm_configured")
    assert "could not turn it into SymIL" in error.message


async def test_a_solver_timeout_without_an_llm_answers_unknown(make_pipeline: MakePipeline) -> None:
    quick = SolverPool(size=1, timeout_ms=200, memory_mb=512)
    await quick.start()
    try:
        result = await ask(make_pipeline(solver_pool=quick), FERMAT)
    finally:
        await quick.close()
    assert result.evolved.verdict == "UNKNOWN"
    assert result.content is not None
    assert result.content.startswith("UNKNOWN")


async def test_the_prompt_is_the_last_user_message_and_earlier_turns_are_context(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    router = (
        "from evolved_runtime.programs.defaults.router import route as default_route\n\n"
        "def route(prompt, context):\n"
        "    decision = default_route(prompt, context)\n"
        "    return decision.model_copy(update={'profile_name': f\"turns-{len(context['history'])}\"})\n"
    )
    pipeline = make_pipeline(programs_dir(tmp_path, router=router))
    turns = [
        ChatTurn(role="system", content="Be brief."),
        ChatTurn(role="user", content="Write a haiku about autumn."),
        ChatTurn(role="assistant", content="Leaves fall."),
        ChatTurn(role="user", content=SYLLOGISM),
    ]
    result = await ask(pipeline, turns)
    assert result.evolved.verdict == "VALID"
    assert result.evolved.profile == "turns-3"


async def test_no_user_message_is_a_400(make_pipeline: MakePipeline) -> None:
    error = await fails(make_pipeline(), [ChatTurn(role="system", content="hi")])
    assert (error.status, error.code) == (400, "no_user_message")


# -- with an LLM ----------------------------------------------------------------------------------


async def test_a_chat_question_goes_to_the_llm(make_pipeline: MakePipeline, upstream: FakeUpstream) -> None:
    result = await ask(make_pipeline(upstream=upstream), "Write a haiku about autumn.", temperature=0.2, tier=None)
    assert result.content == "The LLM says hello."
    assert result.evolved.tier == 0
    assert result.usage["total_tokens"] == 8
    assert upstream.last_body["temperature"] == 0.2
    assert "llm" in result.evolved.timings_ms


async def test_a_streamed_llm_answer_arrives_as_deltas(make_pipeline: MakePipeline, upstream: FakeUpstream) -> None:
    pipeline = make_pipeline(upstream=upstream)
    result = await pipeline.run(user("Tell me a story."), stream=True, request_id="s", params={})
    assert result.deltas is not None
    text = "".join([delta async for delta in result.deltas])
    assert text.strip() == "The LLM says hello."


async def test_an_untranslatable_question_escalates_level_by_level_then_to_the_llm(
    make_pipeline: MakePipeline, upstream: FakeUpstream
) -> None:
    result = await ask(make_pipeline(upstream=upstream), OUT_OF_GRAMMAR)
    info = result.evolved
    assert info.tier == 0
    assert result.content == "The LLM says hello."
    assert [e.split(":")[0] for e in info.escalations] == ["level 1", "level 2", "level 3"]
    assert upstream.requests == 2  # level 3 asked the LLM for SymIL, then the LLM answered
    assert result.usage["total_tokens"] == 16


async def test_a_solver_timeout_escalates_to_the_llm(make_pipeline: MakePipeline, upstream: FakeUpstream) -> None:
    quick = SolverPool(size=1, timeout_ms=200, memory_mb=512)
    await quick.start()
    try:
        result = await ask(make_pipeline(upstream=upstream, solver_pool=quick), FERMAT)
    finally:
        await quick.close()
    assert result.evolved.tier == 0
    assert "timeout" in result.evolved.escalations[0]
    assert result.content == "The LLM says hello."


async def test_a_translation_program_can_ask_the_llm_through_its_handle(
    make_pipeline: MakePipeline, upstream: FakeUpstream, tmp_path: Path
) -> None:
    problem = translate(SYLLOGISM, 1)
    assert problem is not None
    upstream.behaviour.reply = problem.model_dump_json()
    directory = programs_dir(
        tmp_path,
        router="def route(prompt, context):\n    return {'tier': 1, 'symil_level': 3, 'profile_name': 'syllogism'}\n",
        translation=(
            "import json\n\n"
            "def translate(prompt, level, hints, llm):\n"
            "    if llm is None:\n        return None\n"
            "    return json.loads(llm.complete(prompt, system=hints['system_prompt']))\n"
        ),
    )
    result = await ask(make_pipeline(directory, upstream=upstream), "cats, mammals, animals: does it follow?")
    assert (result.evolved.verdict, result.evolved.symil_level) == ("VALID", 3)
    assert result.usage["total_tokens"] == 8
    assert upstream.last_body["messages"][0]["role"] == "system"
    assert "SymIL" in upstream.last_body["messages"][0]["content"]  # the profile's system prompt


# -- programs are user code -----------------------------------------------------------------------


async def test_a_router_that_raises_is_a_500_naming_the_program(make_pipeline: MakePipeline, tmp_path: Path) -> None:
    directory = programs_dir(tmp_path, router="def route(prompt, context):\n    raise ValueError('boom')\n")
    error = await fails(make_pipeline(directory), SYLLOGISM)
    assert (error.status, error.code) == (500, "program_error")
    assert "router program failed: route() raised ValueError: boom" in error.message


async def test_a_router_returning_the_wrong_type_is_a_500(make_pipeline: MakePipeline, tmp_path: Path) -> None:
    directory = programs_dir(tmp_path, router="def route(prompt, context):\n    return 'tier 1'\n")
    error = await fails(make_pipeline(directory), SYLLOGISM)
    assert error.status == 500
    assert "route() returned str" in error.message


async def test_a_translation_that_raises_escalates_and_without_an_llm_is_a_500(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    directory = programs_dir(
        tmp_path, translation="def translate(prompt, level, hints, llm):\n    raise KeyError('x')\n"
    )
    error = await fails(make_pipeline(directory), SYLLOGISM)
    assert (error.status, error.code) == (500, "program_error")
    assert "translate() raised KeyError" in error.message


async def test_a_translation_that_exits_does_not_stop_the_worker(
    make_pipeline: MakePipeline, upstream: FakeUpstream, tmp_path: Path
) -> None:
    directory = programs_dir(
        tmp_path, translation="import sys\n\ndef translate(prompt, level, hints, llm):\n    sys.exit(3)\n"
    )
    result = await ask(make_pipeline(directory, upstream=upstream), SYLLOGISM)
    assert result.evolved.tier == 0
    assert "translate() raised SystemExit: 3" in result.evolved.escalations[0]


async def test_a_router_that_hangs_is_cut_off_with_a_clear_error(make_pipeline: MakePipeline, tmp_path: Path) -> None:
    release = tmp_path / "release"
    router = (
        "import pathlib, time\n\n"
        "def route(prompt, context):\n"
        f"    while not pathlib.Path({str(release)!r}).exists():\n"
        "        time.sleep(0.02)\n"
        "    return {'tier': 1}\n"
    )
    pipeline = make_pipeline(programs_dir(tmp_path, router=router), program_timeout_s=0.3)
    try:
        error = await fails(pipeline, SYLLOGISM)
    finally:
        release.touch()
    assert error.status == 500
    assert "route() did not return within 0.3s" in error.message


async def test_programs_run_off_the_event_loop(make_pipeline: MakePipeline, tmp_path: Path) -> None:
    """Once running, the router waits for a file that only the event loop creates: had the router
    blocked the loop, the file would never appear and the router would give up."""
    started, release = tmp_path / "started", tmp_path / "release"
    router = (
        "import pathlib, time\n\n"
        "def route(prompt, context):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    for _ in range(500):\n"
        f"        if pathlib.Path({str(release)!r}).exists():\n"
        "            return {'tier': 1, 'profile_name': 'syllogism'}\n"
        "        time.sleep(0.02)\n"
        "    raise TimeoutError('the event loop never ran')\n"
    )
    pipeline = make_pipeline(programs_dir(tmp_path, router=router))
    request = asyncio.create_task(ask(pipeline, SYLLOGISM))
    async with asyncio.timeout(10):
        while not started.exists():  # noqa: ASYNC110 - set by a program thread; no Event to wait on
            await asyncio.sleep(0.01)
    release.touch()
    result = await request
    assert result.evolved.verdict == "VALID"


async def test_the_profile_picks_the_solver_unless_the_router_does(make_pipeline: MakePipeline, tmp_path: Path) -> None:
    profiles = (
        "def get_profile(name):\n    return {'name': name, 'solver': 'z3'}\n\n"
        "def list_profiles():\n    return ['default']\n"
    )
    by_profile = make_pipeline(programs_dir(tmp_path, profiles=profiles))
    assert (await ask(by_profile, SYLLOGISM)).evolved.solver == "z3"
    router = "def route(prompt, context):\n    return {'tier': 1, 'preferred_solver': 'clingo'}\n"
    by_router = make_pipeline(programs_dir(tmp_path, router=router))
    assert (await ask(by_router, SYLLOGISM)).evolved.solver == "clingo"


async def test_a_profiles_program_that_rejects_a_name_is_a_500(make_pipeline: MakePipeline, tmp_path: Path) -> None:
    profiles = "def get_profile(name):\n    return {'default': {'name': 'default'}}[name]\n\ndef list_profiles():\n    return ['default']\n"
    error = await fails(make_pipeline(programs_dir(tmp_path, profiles=profiles)), SYLLOGISM)
    assert error.status == 500
    assert "get_profile('syllogism') raised KeyError" in error.message
