"""A bounded pool of solver processes with a time and a memory limit per call.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its processes dies (a solver
crash, the kernel's OOM killer) the whole executor is marked broken and every pending call
fails, and it cannot stop one stuck call. Here each worker owns a pipe; a call past its deadline
gets its worker killed and replaced, a crash costs only that call, and the event loop waits on
the pipe's file descriptor (no thread per call). Workers come from a forkserver that has
already imported Z3 and Clingo, so a replacement is ready in tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from evolved_runtime import heap
from evolved_runtime.solvers.backends import Backend, SolveOutcome, applicable_backends, solve_task
from evolved_runtime.solvers.portfolio import PortfolioOutcome, combine
from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask

SolveFn = Callable[[FormalTask, Backend, int], SolveOutcome]
GRACE_MS = 250  # on top of the solver's own time limit, before the process is killed
STARTUP_TIMEOUT_S = 60.0
MAX_RESTART_DELAY_S = 5.0
LIVENESS_TTL_S = 0.5  # how long a "some process is alive" check (a waitpid per process) is reused
PRELOAD = ["evolved_runtime.solvers.z3_backend", "evolved_runtime.solvers.clingo_backend"]
_WARM_UP = SmtLibTask(source="(declare-const x Int)\n(assert (> x 0))\n(check-sat)")
_WARM_UP_ASP = AspTask(source="a. b :- a.")
log = logging.getLogger("evolved_runtime.solvers")


def next_cpu(allowed: list[int], pinned: list[int]) -> int:
    """The CPU for a new solver process: the allowed one with the fewest processes pinned to it
    (the lowest number among equals), so ``size`` processes spread over the cores and a
    replacement takes the place of the process it replaces."""
    return min(allowed, key=lambda cpu: (pinned.count(cpu), cpu))


def _worker_main(conn: Connection, fn: SolveFn, memory_mb: int, cpu: int | None) -> None:
    """One solver process: limit its address space, pin it to ``cpu`` if given, warm the solvers
    up, then serve calls forever."""
    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if cpu is not None:
        with contextlib.suppress(OSError):  # the CPU went away (cpuset changed): run unpinned
            os.sched_setaffinity(0, {cpu})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # load the solvers' libraries now, not on the first request
        solve_task(_WARM_UP, "z3", 5000)
        solve_task(_WARM_UP_ASP, "clingo", 5000)
    heap.freeze_start_up_heap()
    conn.send("ready")
    while True:
        try:
            task, backend, timeout_ms = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result: Any = fn(task, backend, timeout_ms)
        except MemoryError:
            result = _unknown(backend, f"memory limit of {memory_mb} MB exceeded")
        except Exception as exc:
            result = _unknown(backend, f"solver raised {type(exc).__name__}: {exc}")
        try:
            conn.send_bytes(_dumps(result))
        except MemoryError:
            conn.send(_unknown(backend, f"memory limit of {memory_mb} MB exceeded"))
        except Exception as exc:  # e.g. an outcome that does not pickle
            conn.send(_unknown(backend, f"the solver's outcome could not be sent: {type(exc).__name__}"))


def _dumps(obj: Any) -> bytes:
    """What ``Connection.send`` would send, without its per-call ForkingPickler (it copies a
    dispatch table on every call); ``Connection.recv`` reads it as usual."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _unknown(backend: Backend, detail: str) -> SolveOutcome:
    return SolveOutcome(verdict="UNKNOWN", backend=backend, detail=detail)


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    cpu: int | None = None

    def kill(self) -> None:
        """SIGKILL without waiting (the process may be stuck in native code)."""
        pid = self.process.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def reap(self) -> None:
        """Wait for a killed process and free its pipe (blocking: call in a thread)."""
        with contextlib.suppress(Exception):
            self.process.join(timeout=5)
            self.conn.close()


class SolverPool:
    """``size`` solver processes. ``solve`` and ``portfolio`` never raise for a well-formed task:
    a timeout, a crash or the memory limit give an UNKNOWN outcome with the reason in ``detail``.

    ``fn`` is the function each worker runs per call (default: the real back ends); it must be a
    module-level function so the workers can import it. With ``pin_cpus`` each process is pinned
    to one of the CPUs this process may use, spread evenly (config ``solver.cpu_affinity: spread``).
    """

    def __init__(
        self, size: int, timeout_ms: int, memory_mb: int, fn: SolveFn = solve_task, *, pin_cpus: bool = False
    ) -> None:
        if size < 1:
            raise ValueError("a solver pool needs at least one process")
        self.size = size
        self.timeout_ms = timeout_ms
        self.memory_mb = memory_mb
        self.replaced = 0
        self._fn = fn
        self._cpus = sorted(os.sched_getaffinity(0)) if pin_cpus else None
        self._pinned: list[int] = []  # the CPU of every process started or starting
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)  # no effect once the forkserver runs; harmless
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False
        self._alive_checked = -LIVENESS_TTL_S  # monotonic time of the last check; reset on any change
        self._alive = False

    # -- process management -------------------------------------------------------------

    def _spawn(self, cpu: int | None) -> _Worker:
        """Start one process (blocking for a few ms: call in a thread)."""
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main, args=(child, self._fn, self.memory_mb, cpu), daemon=True, name="evolved-solver"
        )
        process.start()
        child.close()
        return _Worker(process=process, conn=parent, cpu=cpu)

    async def _add(self) -> None:
        """Start a process, wait for it to load the solvers, then offer it to callers."""
        cpu = None
        if self._cpus:  # chosen here, on the loop, so processes started at once get different CPUs
            cpu = next_cpu(self._cpus, self._pinned)
            self._pinned.append(cpu)
        try:
            worker = await asyncio.to_thread(self._spawn, cpu)
        except BaseException:
            self._unpin(cpu)
            raise
        self._workers.add(worker)
        self._changed()
        try:
            message = await self._receive(worker, STARTUP_TIMEOUT_S)
        except (TimeoutError, EOFError, OSError):
            message = None
        if message != "ready" or self._closed:
            self._workers.discard(worker)
            self._unpin(cpu)
            self._changed()
            worker.kill()
            await asyncio.to_thread(worker.reap)
            if self._closed:
                return
            raise RuntimeError(f"a solver process did not start (exit code {worker.process.exitcode})")
        self._idle.put_nowait(worker)

    async def start(self) -> None:
        """Start every process and wait until each has loaded the solvers (not charged to a call)."""
        await asyncio.gather(*(self._add() for _ in range(self.size)))

    def healthy(self) -> bool:
        """True while the pool is open and at least one solver process is alive. Asked on every
        request: the processes are polled at most every LIVENESS_TTL_S, and at once after the
        pool itself adds, retires or closes one (a process killed from outside shows within that)."""
        now = time.monotonic()
        if now - self._alive_checked >= LIVENESS_TTL_S:
            self._alive = any(w.process.is_alive() for w in self._workers)
            self._alive_checked = now
        return not self._closed and self._alive

    def _unpin(self, cpu: int | None) -> None:
        if cpu is not None and cpu in self._pinned:
            self._pinned.remove(cpu)

    def _changed(self) -> None:
        self._alive_checked = -LIVENESS_TTL_S

    def pids(self) -> list[int]:
        """The process IDs of the pool's solver processes (started or starting)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def busy(self) -> int:
        """Processes in the pool that are running a call (or starting)."""
        return len(self._workers) - self._idle.qsize()

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker whose state is unknown (stuck, crashed, cancelled) and start a replacement."""
        self._workers.discard(worker)
        self._unpin(worker.cpu)
        self._changed()
        worker.kill()
        if self._closed:
            return
        self.replaced += 1
        self._in_background(self._replace(worker))

    async def _replace(self, dead: _Worker) -> None:
        await asyncio.to_thread(dead.reap)
        delay = 0.1
        while not self._closed:
            try:
                await self._add()
                return
            except Exception as exc:
                log.warning("could not replace a solver process (retrying in %.1fs): %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RESTART_DELAY_S)

    def _in_background(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- calls --------------------------------------------------------------------------

    async def _receive(self, worker: _Worker, deadline_s: float) -> Any:
        """The worker's next message; the loop watches the pipe's fd instead of blocking on it."""
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

    async def _finish_abandoned(self, worker: _Worker, deadline_s: float) -> None:
        """A caller gave up (cancelled) mid-call: keep the worker if its answer still comes in time."""
        try:
            await self._receive(worker, deadline_s)
        except (TimeoutError, EOFError, OSError):
            self._retire(worker)
            return
        if self._closed:
            worker.kill()
        else:
            self._idle.put_nowait(worker)

    async def solve(self, task: FormalTask, backend: Backend) -> SolveOutcome:
        """Run ``task`` on ``backend`` in a free process (waiting for one if all are busy)."""
        if self._closed:
            return _unknown(backend, "the solver pool is shut down")
        while True:
            worker = await self._idle.get()
            try:
                worker.conn.send_bytes(_dumps((task, backend, self.timeout_ms)))
                break
            except OSError:  # the process died while idle (e.g. the OOM killer): use another
                self._retire(worker)
        deadline_s = (self.timeout_ms + GRACE_MS) / 1000
        try:
            result = await self._receive(worker, deadline_s)
        except TimeoutError:
            self._retire(worker)
            return _unknown(backend, f"timeout after {self.timeout_ms} ms; the solver process was replaced")
        except (EOFError, OSError):
            self._retire(worker)
            return _unknown(
                backend, f"the solver process crashed (exit code {worker.process.exitcode}); it was replaced"
            )
        except asyncio.CancelledError:
            self._in_background(self._finish_abandoned(worker, deadline_s))
            raise
        except BaseException:
            self._retire(worker)
            raise
        self._idle.put_nowait(worker)
        if not isinstance(result, SolveOutcome):
            return _unknown(backend, "the solver returned no outcome")
        return result

    async def portfolio(self, task: FormalTask) -> PortfolioOutcome:
        """Every applicable solver on ``task`` at once, combined (agreement reported)."""
        backends = applicable_backends(task)
        outcomes = await asyncio.gather(*(self.solve(task, b) for b in backends))
        return combine(list(outcomes))

    async def close(self) -> None:
        """Stop every process; later calls answer UNKNOWN."""
        self._closed = True
        for task in list(self._background):
            task.cancel()
        workers = list(self._workers)
        self._workers.clear()
        self._changed()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.close()
                worker.process.terminate()
        await asyncio.gather(*(asyncio.to_thread(w.reap) for w in workers))
        while not self._idle.empty():
            self._idle.get_nowait()
