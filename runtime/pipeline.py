"""The request path: route -> translate -> solve -> respond, with escalation.

Tier 0 asks the LLM; Tier 1 translates to SymIL and asks one solver; Tier 2 asks every
applicable solver and cross-checks. A translation that fails or a solver that answers UNKNOWN
escalates to the next SymIL level (up to 3), then to the LLM when one is configured. Input that
is already formal skips translation. Programs are user code: they run in a small thread pool
(with a time limit), so the event loop never waits on them, and whatever they raise becomes an
escalation or a clear error, never a crash. The package's default programs are quick and
trusted, so they run inline (no thread hop) except where they may call the LLM.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from evolved_runtime.config import PipelineConfig
from evolved_runtime.llm.base import ChatLLM
from evolved_runtime.pipeline_types import ChatTurn, EvolvedInfo, PipelineError, PipelineResult, SyncLLM
from evolved_runtime.programs.loader import ProgramSet
from evolved_runtime.programs.protocols import MAX_LEVEL, Profile, RoutingDecision, Solver
from evolved_runtime.programs.threads import ProgramThreads
from evolved_runtime.programs.validate import ProgramResultError, as_decision, as_problem, as_profile
from evolved_runtime.solvers.backends import SolveOutcome, applicable_backends
from evolved_runtime.solvers.pool import SolverPool
from evolved_runtime.solvers.portfolio import PortfolioOutcome
from evolved_runtime.symil.explain import explain
from evolved_runtime.symil.formal import AspTask, FormalInputError, FormalTask, SmtLibTask, extract_formal
from evolved_runtime.symil.models import Problem

__all__ = ["ChatTurn", "EvolvedInfo", "Pipeline", "PipelineError", "PipelineResult", "split_prompt"]

T = TypeVar("T")
PROGRAM_TIMEOUT_S = 30.0
# Solver details that mean "the formal input does not parse" (evolved_runtime.solvers.*_backend).
FORMAL_ERROR_PREFIXES = ("SMT-LIB parse error", "ASP error")


class ProgramFailure(Exception):
    """A program raised, hung or returned the wrong type; the message says which and how."""


def split_prompt(messages: list[ChatTurn]) -> tuple[str, list[dict[str, str]]]:
    """The prompt (the last user message) and the turns before it (context for the programs)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return messages[index].content, [{"role": m.role, "content": m.content} for m in messages[:index]]
    raise PipelineError(400, "no_user_message", "messages must contain at least one message with role 'user'")


def tier_hint(value: Any) -> int | None:
    """The caller's tier hint (``metadata.tier``: OpenAI metadata values are strings), or None."""
    if value is None:
        return None
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip() in ("0", "1", "2"):
        return int(value)
    raise PipelineError(400, "invalid_tier_hint", f"metadata.tier must be 0, 1 or 2, not {value!r}")


def formal_kind(task: FormalTask) -> str:
    if isinstance(task, SmtLibTask):
        return "smtlib"
    if isinstance(task, AspTask):
        return "asp"
    return "symil"


def backing_outcome(portfolio: PortfolioOutcome) -> SolveOutcome:
    """The outcome whose model backs the combined verdict (else the first, with that verdict)."""
    for outcome in portfolio.outcomes:
        if outcome.verdict == portfolio.verdict:
            return outcome
    return portfolio.outcomes[0].model_copy(update={"verdict": portfolio.verdict, "model": None})


class Pipeline:
    def __init__(
        self,
        config: PipelineConfig,
        programs: ProgramSet,
        pool: SolverPool,
        llm: ChatLLM | None,
        *,
        program_timeout_s: float = PROGRAM_TIMEOUT_S,
    ) -> None:
        self.config = config
        self.programs = programs
        self.pool = pool
        self.llm = llm
        self.hashes = {c: h[:16] for c, h in programs.hashes.items()}
        self.program_timeout_s = program_timeout_s
        llm_timeout = config.llm.timeout_s if config.llm is not None else 60.0
        self.llm_handle_timeout_s = llm_timeout + 5
        self._threads = ProgramThreads(min(32, (os.cpu_count() or 1) + 4))

    # -- helpers ---------------------------------------------------------------------------

    async def _timed(self, info: EvolvedInfo, stage: str, work: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await work
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            info.timings_ms[stage] = round(info.timings_ms.get(stage, 0.0) + elapsed, 3)

    async def _call(self, component: str, name: str, fn: Callable[..., T], *args: Any, inline: bool = True) -> T:
        """Call a program function; any failure becomes ProgramFailure naming the call."""
        timeout = self.program_timeout_s
        try:
            if inline and self.programs.is_default(component):
                return fn(*args)
            if component == "translation" and args[-1] is not None:  # may wait on the LLM
                timeout += 2 * self.llm_handle_timeout_s
            future = self._threads.run(functools.partial(fn, *args))
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError as exc:
                if not future.cancelled():
                    raise  # the program itself raised TimeoutError
                raise ProgramFailure(f"{name} did not return within {timeout:g}s") from exc
        except ProgramFailure:
            raise
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # SystemExit from user code must not stop the worker
            raise ProgramFailure(f"{name} raised {type(exc).__name__}: {exc}") from exc

    async def _route(self, prompt: str, context: dict[str, Any], info: EvolvedInfo) -> RoutingDecision:
        try:
            raw = await self._timed(
                info, "route", self._call("router", "route()", self.programs.route, prompt, context)
            )
            return as_decision(raw)
        except (ProgramFailure, ProgramResultError) as exc:
            raise PipelineError(500, "program_error", f"the router program failed: {exc}") from exc

    async def _profile(self, name: str, info: EvolvedInfo) -> Profile:
        call = f"get_profile({name!r})"
        try:
            raw = await self._timed(info, "profile", self._call("profiles", call, self.programs.get_profile, name))
            return as_profile(raw, name)
        except (ProgramFailure, ProgramResultError) as exc:
            raise PipelineError(500, "program_error", f"the profiles program failed: {exc}") from exc

    async def _translate(
        self, prompt: str, level: int, hints: dict[str, Any], handle: SyncLLM | None, info: EvolvedInfo
    ) -> Problem | None:
        inline = level < MAX_LEVEL or handle is None  # the default calls the LLM only at level 3
        work = self._call(
            "translation", "translate()", self.programs.translate, prompt, level, hints, handle, inline=inline
        )
        raw = await self._timed(info, "translate", work)
        try:
            return as_problem(raw)
        except ProgramResultError as exc:
            raise ProgramFailure(str(exc)) from exc

    async def _solve(self, task: FormalTask, tier: int, preferred: Solver | None, info: EvolvedInfo) -> SolveOutcome:
        backends = applicable_backends(task)
        if not backends:
            return SolveOutcome(verdict="UNKNOWN", backend="z3", detail="no solver applies to this problem")
        if tier == 2 and len(backends) > 1:
            portfolio = await self._timed(info, "solve", self.pool.portfolio(task))
            info.solvers = [o.backend for o in portfolio.outcomes]
            info.agree = portfolio.agree
            outcome = backing_outcome(portfolio)
            if portfolio.agree is False:
                details = "; ".join(f"{o.backend}: {o.verdict}" for o in portfolio.outcomes)
                outcome = outcome.model_copy(update={"detail": f"the solvers disagree ({details})"})
            info.solver = outcome.backend
            return outcome
        backend = preferred if preferred in backends else backends[0]
        outcome = await self._timed(info, "solve", self.pool.solve(task, backend))
        info.solver = outcome.backend
        info.solvers = [outcome.backend]
        return outcome

    def _answer(self, task: FormalTask, outcome: SolveOutcome, info: EvolvedInfo) -> PipelineResult:
        info.verdict = outcome.verdict
        return PipelineResult(evolved=info, content=explain(task, outcome.verdict, outcome.model))

    # -- the request path ------------------------------------------------------------------

    async def routes_to_llm(self, messages: list[ChatTurn], params: dict[str, Any]) -> bool:
        """Whether the router program sends this request to tier 0 (the LLM) as :meth:`run` would:
        the semantic cache may answer only such requests (a solver question never, even if it is
        worded like a cached LLM one). A formal input, a tier hint or a failing router: no."""
        prompt, history = split_prompt(messages)
        try:
            if extract_formal(prompt) is not None or tier_hint(params.get("tier")) is not None:
                return False
            decision = await self._route(prompt, {"history": history}, EvolvedInfo(program_hashes=self.hashes))
        except (FormalInputError, PipelineError):
            return False
        return decision.tier == 0

    async def run(
        self, messages: list[ChatTurn], *, stream: bool, request_id: str, params: dict[str, Any]
    ) -> PipelineResult:
        """Answer one chat request. Raises PipelineError (or the LLM's LLMError) for the caller."""
        info = EvolvedInfo(program_hashes=self.hashes)
        prompt, history = split_prompt(messages)
        try:
            formal = extract_formal(prompt)
        except FormalInputError as exc:
            raise PipelineError(400, "invalid_formal_input", str(exc)) from exc
        context: dict[str, Any] = {"history": history}
        hint = tier_hint(params.get("tier"))
        if hint is not None:
            context["tier"] = hint
        if formal is not None:
            context["formal"] = formal_kind(formal)
        decision = await self._route(prompt, context, info)
        info.profile = decision.profile_name
        if formal is not None:
            return await self._formal(formal, decision, messages, stream, params, info)
        if decision.tier == 0:
            return await self._tier0(messages, stream, params, info)
        profile = await self._profile(decision.profile_name, info)
        start = decision.symil_level if "symil_level" in decision.model_fields_set else profile.level
        solver = decision.preferred_solver or profile.solver
        hints = {"profile": profile.name, "system_prompt": profile.system_prompt, "history": history,
                 "request_id": request_id}  # fmt: skip
        loop = asyncio.get_running_loop()
        handle = SyncLLM(self.llm, loop, self.llm_handle_timeout_s) if self.llm is not None else None
        last: tuple[Problem, SolveOutcome] | None = None
        failures: list[str] = []
        for level in range(start, MAX_LEVEL + 1):
            try:
                problem = await self._translate(prompt, level, hints, handle, info)
            except ProgramFailure as exc:
                failures.append(f"level {level}: {exc}")
                info.escalations.append(f"level {level}: the translation program failed: {exc}")
                continue
            if problem is None:
                info.escalations.append(f"level {level}: not translated")
                continue
            info.symil_level = level
            info.tier = decision.tier
            outcome = await self._solve(problem, decision.tier, solver, info)
            if outcome.verdict != "UNKNOWN":
                return self._with_usage(self._answer(problem, outcome, info), handle)
            last = (problem, outcome)
            info.escalations.append(f"level {level}: {outcome.backend} answered UNKNOWN ({outcome.detail})")
        if self.llm is not None:
            result = await self._tier0(messages, stream, params, info)
            return self._with_usage(result, handle)
        if last is not None:
            return self._answer(last[0], last[1], info)
        if failures:
            raise PipelineError(500, "program_error", "the translation program failed: " + "; ".join(failures))
        raise PipelineError(
            503,
            "no_llm_configured",
            "the solvers cannot answer this: the translation program could not turn it into SymIL at any level, "
            "and no LLM is configured to answer it. Rephrase it in the supported controlled English "
            "(docs/symil.md), send formal input (a fenced symil, smt2 or asp block), or configure spec.llm.",
            "service_unavailable",
        )

    async def _formal(
        self,
        task: FormalTask,
        decision: RoutingDecision,
        messages: list[ChatTurn],
        stream: bool,
        params: dict[str, Any],
        info: EvolvedInfo,
    ) -> PipelineResult:
        """Formal input: no translation, no LLM unless the solvers cannot answer."""
        info.formal_input = True
        info.tier = 2 if decision.tier == 2 else 1
        outcome = await self._solve(task, info.tier, decision.preferred_solver, info)
        if outcome.verdict == "UNKNOWN" and outcome.detail.startswith(FORMAL_ERROR_PREFIXES):
            raise PipelineError(400, "invalid_formal_input", outcome.detail)
        if outcome.verdict != "UNKNOWN" or self.llm is None:
            return self._answer(task, outcome, info)
        info.escalations.append(f"formal input: {outcome.backend} answered UNKNOWN ({outcome.detail})")
        return await self._tier0(messages, stream, params, info)

    async def _tier0(
        self, messages: list[ChatTurn], stream: bool, params: dict[str, Any], info: EvolvedInfo
    ) -> PipelineResult:
        if self.llm is None:
            raise PipelineError(
                503,
                "no_llm_configured",
                "the router sent this request to the LLM (Tier 0), but no LLM is configured for this pipeline; "
                "configure spec.llm, or ask a question the solvers can answer (docs/symil.md)",
                "service_unavailable",
            )
        info.tier = 0
        info.solver = None
        info.solvers = []
        info.agree = None
        info.verdict = None
        payload = [{"role": m.role, "content": m.content} for m in messages]
        llm_params = {k: v for k, v in params.items() if k != "tier"}
        if stream:
            return PipelineResult(evolved=info, deltas=self.llm.stream(payload, **llm_params))
        reply = await self._timed(info, "llm", self.llm.chat(payload, **llm_params))
        return PipelineResult(evolved=info, content=reply.content, usage=dict(reply.usage), model=reply.model)

    @staticmethod
    def _with_usage(result: PipelineResult, handle: SyncLLM | None) -> PipelineResult:
        """Add the tokens the translation program spent through its LLM handle."""
        if handle is not None and handle.usage:
            for key, value in handle.usage.items():
                result.usage[key] = result.usage.get(key, 0) + value
        return result

    def close(self) -> None:
        """Release the program threads (a program stuck in a call keeps its thread)."""
        self._threads.close()
