"""The FastAPI app factory: routes, error handling, and the worker's start-up and shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client.core import Metric
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

from evolved_runtime import heap, metrics
from evolved_runtime.admission import Admission
from evolved_runtime.api import chat, costs, errors, health, models
from evolved_runtime.api.auth_gate import AuthGate, open_paths
from evolved_runtime.api.fast import ChatFastPath
from evolved_runtime.config import PipelineConfig
from evolved_runtime.limits import BodyLimit
from evolved_runtime.llm import make_llm
from evolved_runtime.llm.breaker import STATE_VALUES
from evolved_runtime.llm.failover import ProviderSet
from evolved_runtime.pipeline import Pipeline
from evolved_runtime.programs.check import prepare
from evolved_runtime.solvers.pool import SolverPool
from evolved_runtime.state import RuntimeState

log = logging.getLogger("evolved_runtime")


async def _start(state: RuntimeState) -> None:
    """Check and load programs and start the pool; readiness flips only when both succeed."""
    try:
        status, _ = await asyncio.gather(prepare(state.config), state.pool.start())
    except Exception as exc:
        state.reason = f"start-up failed: {type(exc).__name__}: {exc}"
        log.exception("start-up failed")
        return
    if status.programs is None:
        state.reason = status.reason
        log.error("not ready: %s", status.reason)
        return
    state.pipeline = Pipeline(state.config, status.programs, state.pool, state.llm)
    state.program_hash = status.programs.program_hash(dict(state.config.program_paths))
    declared = os.environ.get("EVOLVED_PROGRAM_HASH")
    if declared and declared != state.program_hash:  # the pod's env says what the operator rendered
        log.warning("program hash %s differs from the operator's %s", state.program_hash, declared)
    for component, digest in status.programs.hashes.items():
        metrics.PROGRAM_INFO.labels(component=component, hash=digest[:16]).set(1)
    metrics.READY.set(1)
    frozen = heap.freeze_start_up_heap()  # after loading the programs: later collections skip all of it
    programs = {c: h[:16] for c, h in status.programs.hashes.items()}
    log.info("ready", extra={"fields": {"programs": programs, "start_up_objects": frozen}})


def breaker_gauges(llm: ProviderSet) -> Iterator[Metric]:
    states = llm.states()
    yield metrics.gauge("evolved_llm_circuit_state", "Circuit breaker per provider: 0 closed, 1 half-open, 2 open.",
                        ("provider",), [((name,), STATE_VALUES[s]) for name, s in states.items()])  # fmt: skip


def new_state(config: PipelineConfig) -> RuntimeState:
    """A worker's state for ``config``: its solver pool (not started yet), LLM and labels."""
    solver = config.solver
    llm = make_llm(config.llm)
    admission = Admission(config, llm)
    if llm is not None:
        metrics.PROBES.sources["breakers"] = lambda: breaker_gauges(llm)
    return RuntimeState(
        config=config,
        pool=SolverPool(
            solver.pool_size,
            solver.timeout_ms,
            solver.memory_mb,
            pin_cpus=solver.cpu_affinity == "spread",
            prefetch=solver.prefetch,
            on_replaced=metrics.solver_process_replaced,
        ),
        llm=llm,
        admission=admission,
        labels={"pipeline": config.pipeline, "variant": config.variant},
    )


def create_app(config: PipelineConfig) -> ASGIApp:
    state = new_state(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        starting = asyncio.create_task(_start(state))
        try:
            yield
        finally:
            starting.cancel()
            await state.pool.close()
            if state.llm is not None:
                await state.llm.close()
            await state.admission.close()

    app = FastAPI(title="evolved-runtime", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = state
    errors.install(app)
    app.include_router(chat.router)
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(costs.router)
    if config.server.gzip:
        app.add_middleware(GZipMiddleware, minimum_size=1024)
    if config.server.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(config.server.cors_origins), allow_methods=["*"], allow_headers=["*"]
        )
    app.add_middleware(BodyLimit, max_bytes=config.limits.max_body_bytes)
    if state.admission.keys is not None:
        app.add_middleware(AuthGate, keys=state.admission.keys, open_paths=open_paths(config.auth))
    if not config.server.gzip and not config.server.cors_origins:
        # in front of FastAPI itself: the hot path skips its built-in middleware too (error
        # wrapper, body limit, telemetry hooks: 20% of the server's CPU per request, py-spy)
        return ChatFastPath(app, state)
    return app
