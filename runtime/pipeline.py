"""The request path: route -> translate -> solve -> respond, with escalation.

Tier 0 asks the LLM; Tier 1 translates to SymIL and asks one solver; Tier 2 asks every
applicable solver and cross-checks. A translation that fails or a solver that answers UNKNOWN
escalates to the next SymIL level, then to the LLM (when one is configured). Input that is
already formal skips translation. Programs are user code: they run in worker threads, so the
event loop never waits on them, and whatever they raise becomes a clear error, never a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from evolved_runtime.config import PipelineConfig
from evolved_runtime.llm.base import ChatLLM
from evolved_runtime.programs.loader import ProgramSet
from evolved_runtime.programs.protocols import RoutingDecision
from evolved_runtime.solvers.backends import SolveOutcome, applicable_backends
from evolved_runtime.solvers.pool import SolverPool
from evolved_runtime.symil.explain import explain
from evolved_runtime.symil.formal import FormalInputError, FormalTask, extract_formal
from evolved_runtime.symil.models import Problem

T = TypeVar("T")
MAX_LEVEL = 3
LLM_HANDLE_TIMEOUT_S = 120.0


class ChatTurn(BaseModel):
    role: str
    content: str


class EvolvedInfo(BaseModel):
    """What the pipeline did, returned with every answer."""

    tier: int | None = None
    solver: str | None = None
    solvers: list[str] = Field(default_factory=list)
    verdict: str | None = None
    agree: bool | None = None
    symil_level: int | None = None
    formal_input: bool = False
    program_hashes: dict[str, str] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    escalations: list[str] = Field(default_factory=list)


@dataclass
class PipelineResult:
    evolved: EvolvedInfo
    content: str | None = None
    deltas: AsyncIterator[str] | None = None
    usage: dict[str, int] = field(default_factory=dict)
    model: str | None = None


class PipelineError(Exception):
    """An answerable failure: becomes an OpenAI-style error with this status and code."""

    def __init__(self, status: int, code: str, message: str, type_: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type_ or ("invalid_request_error" if status < 500 else "server_error")


class _LLMHandle:
    """The synchronous facade translation programs get: it runs the call on the event loop."""

    def __init__(self, llm: ChatLLM, loop: asyncio.AbstractEventLoop) -> None:
        self._llm = llm
        self._loop = loop

    def complete(self, prompt: str, system: str | None = None) -> str:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        future = asyncio.run_coroutine_threadsafe(self._llm.chat(messages), self._loop)
        return future.result(LLM_HANDLE_TIMEOUT_S).content


def last_user_prompt(messages: list[ChatTurn]) -> str:
    for turn in reversed(messages):
        if turn.role == "user":
            return turn.content
    raise PipelineError(400, "no_user_message", "messages must contain at least one message with role 'user'")


class Pipeline:
    def __init__(self, config: PipelineConfig, programs: ProgramSet, pool: SolverPool, llm: ChatLLM | None) -> None:
        self.config = config
        self.programs = programs
        self.pool = pool
        self.llm = llm
        self.hashes = {c: h[:16] for c, h in programs.hashes.items()}

    async def _timed(self, info: EvolvedInfo, stage: str, work: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await work
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            info.timings_ms[stage] = round(info.timings_ms.get(stage, 0.0) + elapsed, 3)

    async def _program(self, component: str, fn: Callable[..., T], *args: Any) -> T:
        """User programs run in a worker thread; the package's defaults (quick, trusted) inline."""
        try:
            if self.programs.is_default(component) and not (component == "translation" and args[1] >= MAX_LEVEL):
                return fn(*args)
            return await asyncio.to_thread(fn, *args)
        except Exception as exc:
            raise PipelineError(
                500, "program_error", f"the {component} program raised {type(exc).__name__}: {exc}", "server_error"
            ) from exc

    async def _route(self, prompt: str, params: dict[str, Any], info: EvolvedInfo) -> RoutingDecision:
        context = {"tier": params.get("tier")} if params.get("tier") is not None else {}
        raw = await self._timed(info, "route", self._program("router", self.programs.route, prompt, context))
        try:
            return raw if isinstance(raw, RoutingDecision) else RoutingDecision.model_validate(raw)
        except Exception as exc:
            raise PipelineError(
                500, "program_error", f"the router program returned an invalid decision: {exc}"
            ) from exc

    async def _solve(self, task: FormalTask, decision: RoutingDecision, info: EvolvedInfo) -> SolveOutcome:
        backends = applicable_backends(task)
        if not backends:
            return SolveOutcome(verdict="UNKNOWN", backend="z3", detail="no solver applies to this problem")
        if decision.tier == 2 and len(backends) > 1:
            portfolio = await self._timed(info, "solve", self.pool.portfolio(task))
            info.solvers = [o.backend for o in portfolio.outcomes]
            info.agree = portfolio.agree
            chosen = next((o for o in portfolio.outcomes if o.verdict == portfolio.verdict), portfolio.outcomes[0])
            info.solver = chosen.backend
            return chosen.model_copy(update={"verdict": portfolio.verdict})
        backend = decision.preferred_solver if decision.preferred_solver in backends else backends[0]
        outcome = await self._timed(info, "solve", self.pool.solve(task, backend))
        info.solver = outcome.backend
        info.solvers = [outcome.backend]
        return outcome

    def _answer(self, task: FormalTask, outcome: SolveOutcome, info: EvolvedInfo) -> PipelineResult:
        info.verdict = outcome.verdict
        return PipelineResult(evolved=info, content=explain(task, outcome.verdict, outcome.model))

    async def run(
        self, messages: list[ChatTurn], *, stream: bool, request_id: str, params: dict[str, Any]
    ) -> PipelineResult:
        info = EvolvedInfo(program_hashes=self.hashes)
        prompt = last_user_prompt(messages)
        try:
            formal = extract_formal(prompt)
        except FormalInputError as exc:
            raise PipelineError(400, "invalid_formal_input", str(exc)) from exc
        decision = await self._route(prompt, params, info)
        if formal is not None:
            info.formal_input = True
            info.tier = 2 if decision.tier == 2 else 1
            outcome = await self._solve(formal, decision, info)
            if outcome.verdict != "UNKNOWN" or self.llm is None:
                return self._answer(formal, outcome, info)
            info.escalations.append(f"solver answered UNKNOWN ({outcome.detail})")
            return await self._tier0(messages, stream, params, info)
        if decision.tier == 0:
            return await self._tier0(messages, stream, params, info)
        last: tuple[Problem, SolveOutcome] | None = None
        loop = asyncio.get_running_loop()
        handle = _LLMHandle(self.llm, loop) if self.llm is not None else None
        for level in range(decision.symil_level, MAX_LEVEL + 1):
            if level == MAX_LEVEL and handle is None:
                info.escalations.append(f"level {level}: needs an LLM")
                break
            hints = {"profile": decision.profile_name, "request_id": request_id}
            problem = await self._timed(
                info, "translate", self._program("translation", self.programs.translate, prompt, level, hints, handle)
            )
            if problem is None:
                info.escalations.append(f"level {level}: not translated")
                continue
            if not isinstance(problem, Problem):
                raise PipelineError(
                    500, "program_error", f"the translation program returned {type(problem).__name__}, expected SymIL"
                )
            info.symil_level = level
            info.tier = decision.tier
            outcome = await self._solve(problem, decision, info)
            if outcome.verdict != "UNKNOWN":
                return self._answer(problem, outcome, info)
            last = (problem, outcome)
            info.escalations.append(f"level {level}: solver answered UNKNOWN ({outcome.detail})")
        if self.llm is not None:
            return await self._tier0(messages, stream, params, info)
        if last is not None:
            return self._answer(last[0], last[1], info)
        raise PipelineError(
            503,
            "no_llm_configured",
            "this question could not be translated for the solvers, and no LLM is configured to answer it; "
            "rephrase it in the supported controlled English (docs/symil.md), send formal input, or configure spec.llm",
            "service_unavailable",
        )

    async def _tier0(
        self, messages: list[ChatTurn], stream: bool, params: dict[str, Any], info: EvolvedInfo
    ) -> PipelineResult:
        if self.llm is None:
            raise PipelineError(
                503,
                "no_llm_configured",
                "the router sent this request to the LLM (Tier 0), but no LLM is configured for this pipeline",
                "service_unavailable",
            )
        info.tier = 0
        info.solver = None
        payload = [m.model_dump() for m in messages]
        if stream:
            return PipelineResult(evolved=info, deltas=self.llm.stream(payload, **params))
        reply = await self._timed(info, "llm", self.llm.chat(payload, **params))
        return PipelineResult(evolved=info, content=reply.content, usage=reply.usage, model=reply.model)
