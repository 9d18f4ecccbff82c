"""Through the whole pipeline with no LLM: the issue-23 questions get the right verdict with the premises
quoted, and a text the translation cannot read whole gets the clear 503, never a verdict."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from evolved_runtime.config import PipelineConfig
from evolved_runtime.pipeline import ChatTurn, Pipeline, PipelineError, PipelineResult
from evolved_runtime.programs import load_programs
from evolved_runtime.solvers.pool import SolverPool


@pytest.fixture
async def pipeline() -> AsyncIterator[Pipeline]:
    pool = SolverPool(size=1, timeout_ms=2000, memory_mb=512)
    await pool.start()
    made = Pipeline(PipelineConfig(), load_programs(None), pool, None)
    yield made
    made.close()
    await pool.close()


async def ask(pipeline: Pipeline, text: str) -> PipelineResult:
    return await pipeline.run([ChatTurn(role="user", content=text)], stream=False, request_id="t", params={})


async def test_the_athletes_question_is_valid_and_quotes_its_premises(pipeline: Pipeline) -> None:
    text = "All professional athletes train daily. Michael is a professional athlete. Therefore, Michael trains daily."
    result = await ask(pipeline, text)
    assert result.evolved.verdict == "VALID"
    assert result.content is not None
    assert result.content.endswith(
        "Premises used: \u201cAll professional athletes train daily.\u201d \u201cMichael is a professional athlete.\u201d"
    )


async def test_a_conclusion_no_premise_mentions_is_declined_not_answered(pipeline: Pipeline) -> None:
    text = "All professional athletes train daily. Michael is a professional athlete. Does Michael exercise?"
    with pytest.raises(PipelineError) as caught:
        await ask(pipeline, text)
    assert (caught.value.status, caught.value.code) == (503, "no_llm_configured")
