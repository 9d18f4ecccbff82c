"""A bounded pool of solver processes with a time and a memory limit per call.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its processes dies (a solver
crash, the kernel's OOM killer) the whole executor is marked broken and every pending call
fails, and it cannot stop one stuck call. Here each worker owns a pipe; a call past its deadline
gets its worker killed and replaced, a crash costs only that call, and the event loop waits on
the pipe's file descriptor (no thread per call).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from evolved_runtime.solvers.backends import Backend, SolveOutcome, applicable_backends, solve_task
from evolved_runtime.solvers.portfolio import PortfolioOutcome, combine
from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask

SolveFn = Callable[[FormalTask, Backend, int], SolveOutcome]
GRACE_MS = 250
STARTUP_TIMEOUT_S = 60.0
_WARM_UP = SmtLibTask(source="(declare-const x Int)\n(assert (> x 0))\n(check-sat)")
_WARM_UP_ASP = AspTask(source="a. b :- a.")  # on top of the solver's own time limit, before the process is killed


def _worker_main(conn: Connection, fn: SolveFn, memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # load the solvers' libraries now, not on the first request
        solve_task(_WARM_UP, "z3", 5000)
        solve_task(_WARM_UP_ASP, "clingo", 5000)
    conn.send("ready")
    while True:
        try:
            task, backend, timeout_ms = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result: Any = fn(task, backend, timeout_ms)
        except MemoryError:
            result = SolveOutcome(verdict="UNKNOWN", backend=backend, detail=f"memory limit of {memory_mb} MB exceeded")
        except Exception as exc:
            result = SolveOutcome(
                verdict="UNKNOWN", backend=backend, detail=f"solver raised {type(exc).__name__}: {exc}"
            )
        try:
            conn.send(result)
        except MemoryError:
            conn.send(SolveOutcome(verdict="UNKNOWN", backend=backend, detail="memory limit exceeded"))


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection


class SolverPool:
    """``size`` solver processes; ``solve`` and ``portfolio`` never raise for a well-formed task."""

    def __init__(self, size: int, timeout_ms: int, memory_mb: int, fn: SolveFn = solve_task) -> None:
        self.size = size
        self.timeout_ms = timeout_ms
        self.memory_mb = memory_mb
        self._fn = fn
        self._ctx = multiprocessing.get_context("forkserver")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self.replaced = 0
        self._closed = False
        self._starting: set[asyncio.Task[None]] = set()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_worker_main, args=(child, self._fn, self.memory_mb), daemon=True)
        process.start()
        child.close()
        worker = _Worker(process=process, conn=parent)
        self._workers.add(worker)
        return worker

    async def start(self) -> None:
        """Start every process and wait until each has loaded the solvers (not charged to a call)."""
        workers = await asyncio.to_thread(lambda: [self._spawn() for _ in range(self.size)])
        for worker in workers:
            await self._ready(worker)

    async def _ready(self, worker: _Worker) -> None:
        try:
            await self._receive(worker, STARTUP_TIMEOUT_S)
        except (TimeoutError, EOFError, OSError):
            self._workers.discard(worker)
            worker.process.kill()
            raise RuntimeError("a solver process did not start") from None
        self._idle.put_nowait(worker)

    def healthy(self) -> bool:
        return not self._closed and any(w.process.is_alive() for w in self._workers)

    def _retire(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        with contextlib.suppress(Exception):
            if worker.process.is_alive() and worker.process.pid:
                os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(timeout=1)
            worker.conn.close()
        if not self._closed:
            self.replaced += 1
            replacement = self._spawn()
            task = asyncio.get_running_loop().create_task(self._ready(replacement))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def _receive(self, worker: _Worker, deadline_s: float) -> Any:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()

        def on_readable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, on_readable)
        try:
            await asyncio.wait_for(ready, deadline_s)
        finally:
            loop.remove_reader(fd)
        return worker.conn.recv()

    async def solve(self, task: FormalTask, backend: Backend) -> SolveOutcome:
        worker = await self._idle.get()
        try:
            worker.conn.send((task, backend, self.timeout_ms))
            result = await self._receive(worker, (self.timeout_ms + GRACE_MS) / 1000)
        except TimeoutError:
            self._retire(worker)
            return SolveOutcome(verdict="UNKNOWN", backend=backend, detail=f"timeout after {self.timeout_ms} ms")
        except (EOFError, OSError, ConnectionError):
            self._retire(worker)
            return SolveOutcome(
                verdict="UNKNOWN", backend=backend, detail="the solver process crashed; it was replaced"
            )
        except BaseException:
            self._retire(worker)  # cancelled mid-call: the worker's state is unknown
            raise
        self._idle.put_nowait(worker)
        if not isinstance(result, SolveOutcome):
            return SolveOutcome(verdict="UNKNOWN", backend=backend, detail="the solver returned no outcome")
        return result

    async def portfolio(self, task: FormalTask) -> PortfolioOutcome:
        backends = applicable_backends(task)
        outcomes = await asyncio.gather(*(self.solve(task, b) for b in backends))
        return combine(list(outcomes))

    async def close(self) -> None:
        self._closed = True
        for worker in list(self._workers):
            with contextlib.suppress(Exception):
                worker.conn.close()
                worker.process.terminate()
        for worker in list(self._workers):
            await asyncio.to_thread(worker.process.join, 2)
        self._workers.clear()
