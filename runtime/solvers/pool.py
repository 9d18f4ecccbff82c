"""A bounded pool of solver processes with a time and a memory limit per call.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its processes dies (a solver
crash, the kernel's OOM killer) the whole executor is marked broken and every pending call
fails, and it cannot stop one stuck call. Here each worker owns a pipe; a call past its deadline
gets its worker killed and replaced, a crash costs only that call, and the event loop waits on
the pipe's file descriptor (no thread per call). Workers come from a forkserver that has
already imported Z3 and Clingo, so a replacement is ready in tens of milliseconds.

Processes are also recycled before they fail: native solver code can keep memory a process never
gets back (libclingo keeps 64 bytes per ``Control``, about 6 MB per 100,000 calls), and a process
at its address-space limit would answer every later call UNKNOWN. Every RECYCLE_CHECK_CALLS
answers, and after any UNKNOWN answer, the pool looks at the process's address space; once it
has used RECYCLE_SHARE of the room it had under the limit at start, the process gets no new
calls, a replacement starts at once, and the old one exits when its last call is answered: no
call fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from evolved_runtime import heap
from evolved_runtime.config import SOLVER_PROCESS_MB
from evolved_runtime.solvers.backends import Backend, SolveOutcome, applicable_backends, solve_task
from evolved_runtime.solvers.frames import READ_SIZE, FrameReader, frame, write_all
from evolved_runtime.solvers.portfolio import PortfolioOutcome, combine
from evolved_runtime.solvers.wire import call_bytes, outcome_bytes, read_call, read_outcome
from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask

SolveFn = Callable[[FormalTask, Backend, int], SolveOutcome]
GRACE_MS = 250  # on top of the solver's own time limit, before the process is killed
STARTUP_TIMEOUT_S = 60.0
MAX_RESTART_DELAY_S = 5.0
LIVENESS_TTL_S = 0.5  # how long a "some process is alive" check (a waitpid per process) is reused
# With prefetch, a busy process may get its next call queued in its pipe, so it starts that call
# the moment it answers instead of sleeping until the event loop hands it one:
PREFETCH_MAX_BYTES = 32 * 1024  # larger requests wait for an idle process (a queued one must fit the socket buffer)
PREFETCH_MAX_AGE_S = 0.05  # never queue behind a call that has run this long: it may be a long one
# A second (third, ...) queued call only while the work ahead of it is expected to take under
# this (calls ahead x the process's recent call time): deep queues for sub-millisecond calls,
# whose process would otherwise run dry before the event loop hands it more, one queued call
# for longer ones, whose queue would only add latency.
PREFETCH_QUEUE_S = 0.003
CALL_TIME_WEIGHT = 0.2  # of the newest call in a process's moving average of call time
RECYCLE_SHARE = 0.5  # of the room under its memory limit a process had at start: used up, it is recycled
RECYCLE_CHECK_CALLS = 512  # answers between two looks at a process's address space
PRELOAD = ["evolved_runtime.solvers.z3_backend", "evolved_runtime.solvers.clingo_backend"]
_WARM_UPS: tuple[tuple[FormalTask, Backend], ...] = (
    (SmtLibTask(source="(declare-const x Int)\n(assert (> x 0))\n(check-sat)"), "z3"),
    (AspTask(source="a. b :- a."), "clingo"),
)  # each SAT
log = logging.getLogger("evolved_runtime.solvers")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
M_ARENA_MAX = -8  # glibc's mallopt parameter


def next_cpu(allowed: list[int], pinned: list[int]) -> int:
    """The CPU for a new solver process: the allowed one with the fewest processes pinned to it
    (the lowest number among equals), so ``size`` processes spread over the cores and a
    replacement takes the place of the process it replaces."""
    return min(allowed, key=lambda cpu: (pinned.count(cpu), cpu))


def next_worker(loads: list[tuple[int, float, float]], size: int, now: float, prefetch: int) -> int | None:
    """Which process takes a call of ``size`` pickled bytes, given each process's (calls sent and
    not answered, monotonic start of its running call, its recent call time in seconds): the
    first idle one; else, for a small call, the busy one whose running call started longest ago
    among those with room that started under PREFETCH_MAX_AGE_S ago, as it is likely to answer
    first. Room: fewer than ``1 + prefetch`` calls, and beyond one queued call only while the
    calls ahead are expected to take under PREFETCH_QUEUE_S. Else none (the call waits for an
    answer)."""
    chosen: int | None = None
    for index, (calls, started, call_time) in enumerate(loads):
        if calls == 0:
            return index
        if (
            size <= PREFETCH_MAX_BYTES
            and calls <= prefetch
            and (calls == 1 or calls * call_time < PREFETCH_QUEUE_S)
            and now - started < PREFETCH_MAX_AGE_S
            and (chosen is None or started < loads[chosen][1])
        ):
            chosen = index
    return chosen


def recycle_due(address_space: int | None, at_start: int | None, limit: int) -> bool:
    """Whether a process should be replaced before its memory runs out: since it started, its
    address space (bytes; None if unknown) has grown by RECYCLE_SHARE of the room it then had
    under ``limit``. Measured from its own start, so a replacement, which starts as small, is
    not recycled again at once (with a 512 MB limit and 112 MB at start: at 312 MB; the other
    half stays free for large allocations)."""
    if address_space is None or at_start is None or at_start >= limit:
        return False
    return address_space - at_start >= RECYCLE_SHARE * (limit - at_start)


def address_space(pid: int | None) -> int | None:
    """A process's virtual memory size in bytes (what RLIMIT_AS limits), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[0]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def _one_malloc_arena() -> None:
    """Let every thread of this process allocate from glibc's main arena. By default each thread
    that allocates (the solvers' timer and watchdog threads) gets an arena that reserves 64 MB
    of address space: two of them took a quarter of a 512 MB limit that counts address space,
    not memory in use. One solving thread at a time means no contention for the one arena."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)


def _warm_up() -> str | None:
    """Load the solvers' libraries now, not on the first request, and check they answer: None
    if each solves its warm-up problem, else what went wrong (e.g. a memory limit too small)."""
    for task, backend in _WARM_UPS:
        try:
            outcome = solve_task(task, backend, 5000)
        except Exception as exc:
            return f"{backend} failed on its warm-up problem: {type(exc).__name__}: {exc}"
        if outcome.verdict != "SAT":
            return f"{backend} failed on its warm-up problem: {outcome.verdict} ({outcome.detail})"
    return None


def _worker_main(conn: Connection, fn: SolveFn, memory_mb: int, cpu: int | None) -> None:
    """One solver process: limit its address space, pin it to ``cpu`` if given, warm the solvers
    up, then serve calls forever."""
    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _one_malloc_arena()
    if cpu is not None:
        with contextlib.suppress(OSError):  # the CPU went away (cpuset changed): run unpinned
            os.sched_setaffinity(0, {cpu})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    problem = _warm_up()
    if problem is not None:
        conn.send(problem)  # the pool reports it; this process serves nothing
        return
    heap.freeze_start_up_heap()
    conn.send("ready")
    fd = conn.fileno()
    reader = FrameReader()
    calls: deque[bytes] = deque()  # with prefetch, one read may bring several calls
    while True:
        while not calls:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:
                return
            if not data:
                return
            calls.extend(reader.feed(data))
        task, backend, timeout_ms = read_call(calls.popleft())
        try:
            result: Any = fn(task, backend, timeout_ms)
            if not isinstance(result, SolveOutcome):
                result = _unknown(backend, "the solver returned no outcome")
        except MemoryError:
            result = _unknown(backend, f"memory limit of {memory_mb} MB exceeded")
        except Exception as exc:
            result = _unknown(backend, f"solver raised {type(exc).__name__}: {exc}")
        try:
            answer = outcome_bytes(result)
        except MemoryError:
            answer = outcome_bytes(_unknown(backend, f"memory limit of {memory_mb} MB exceeded"))
        except Exception as exc:  # e.g. a model that does not pickle
            answer = outcome_bytes(_unknown(backend, f"the solver's outcome could not be sent: {type(exc).__name__}"))
        try:
            write_all(fd, frame(answer))
        except OSError:
            return


def _unknown(backend: Backend, detail: str) -> SolveOutcome:
    return SolveOutcome(verdict="UNKNOWN", backend=backend, detail=detail)


@dataclass(eq=False)
class _Call:
    """One solve on its way: the pickled request, and the future its caller awaits."""

    payload: bytes
    backend: Backend
    future: asyncio.Future[Any]


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    cpu: int | None = None
    calls: deque[_Call] = field(default_factory=deque)  # sent, answered in order; calls[0] is running
    started: float = 0.0  # monotonic time calls[0] began
    call_time: float = PREFETCH_QUEUE_S  # moving average of its calls' time (s); unknown counts as long
    deadline: asyncio.TimerHandle | None = None
    reader: FrameReader = field(default_factory=FrameReader)
    answered: int = 0
    address_space_at_start: int | None = None
    draining: bool = False  # being recycled: no new calls; it exits once its calls are answered

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

    Calls go to an idle process first; when every process is busy, a small call may be queued
    behind a running one that started less than PREFETCH_MAX_AGE_S ago (up to ``prefetch`` per
    process, see ``next_worker``). Each process answers in order, and the event loop reads every
    answer from a reader kept on the pipe. The time limit runs from the moment a call starts, not
    from when it was queued; calls queued behind a call that times out or crashes never started,
    so they go back to the front of the queue.
    """

    def __init__(
        self,
        size: int,
        timeout_ms: int,
        memory_mb: int,
        fn: SolveFn = solve_task,
        *,
        pin_cpus: bool = False,
        prefetch: int = 2,
        recycle_check_calls: int = RECYCLE_CHECK_CALLS,
        on_replaced: Callable[[str], None] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a solver pool needs at least one process")
        self.size = size
        self.prefetch = prefetch
        self.timeout_ms = timeout_ms
        self.memory_mb = memory_mb
        self._limit = memory_mb * 1024 * 1024  # bytes of address space per process
        self.replaced = 0
        self.recycled = 0
        self.recycle_check_calls = recycle_check_calls
        self._on_replaced = on_replaced  # called with the reason (metrics); not in the solver processes
        self._fn = fn
        self._cpus = sorted(os.sched_getaffinity(0)) if pin_cpus else None
        self._pinned: list[int] = []  # the CPU of every process started or starting
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)  # no effect once the forkserver runs; harmless
        self._ready: list[_Worker] = []  # started processes that take calls
        self._waiting: deque[_Call] = deque()  # calls no process could take yet
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
            message = await self._first_message(worker, STARTUP_TIMEOUT_S)
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
            said = message if isinstance(message, str) else None  # not "ready": the process's reason
            raise RuntimeError(not_started(worker.process.exitcode, self.memory_mb, said))
        worker.address_space_at_start = address_space(worker.process.pid)
        asyncio.get_running_loop().add_reader(worker.conn.fileno(), self._on_answer, worker)
        self._ready.append(worker)
        self._dispatch()

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
        return len(self._workers) - sum(1 for w in self._ready if not w.calls)

    def _retire(self, worker: _Worker, detail: str, reason: str) -> None:
        """Take a worker whose state is unknown (stuck, crashed) out of service and start a
        replacement. Its running call answers UNKNOWN with ``detail``; the calls queued behind it
        never started and go back to the front of the queue."""
        if worker in self._ready:
            self._ready.remove(worker)
        self._detach(worker)
        if worker.calls:
            running = worker.calls.popleft()
            if not running.future.done():
                running.future.set_result(_unknown(running.backend, detail))
            self._waiting.extendleft(reversed(worker.calls))
            worker.calls.clear()
        self._workers.discard(worker)
        self._unpin(worker.cpu)
        self._changed()
        worker.kill()
        if self._closed:
            return
        self.replaced += 1
        self._count(reason)
        if worker.draining:  # its replacement is already starting
            self._in_background(asyncio.to_thread(worker.reap))
        else:
            self._in_background(self._replace(worker))
        self._dispatch()

    def _count(self, reason: str) -> None:
        if self._on_replaced is not None:
            with contextlib.suppress(Exception):  # counting must never break the pool
                self._on_replaced(reason)

    def _recycle(self, worker: _Worker, size: int) -> None:
        """Replace a process that holds too much memory without failing a call: it takes no new
        calls, its replacement starts now, and it exits once its queued calls are answered (the
        caller, ``_on_answer``, releases it then)."""
        worker.draining = True
        self._ready.remove(worker)
        self._unpin(worker.cpu)  # its replacement takes its CPU (it keeps running there until it exits)
        worker.cpu = None
        self.recycled += 1
        self._count("recycled")
        log.info("recycling solver process %s after %d calls: address space %d MB of its %d MB limit",
                 worker.process.pid, worker.answered, size >> 20, self.memory_mb)  # fmt: skip
        self._in_background(self._add_until_started())

    def _release(self, worker: _Worker) -> None:
        """End a drained process: closing its pipe makes it exit."""
        self._detach(worker)
        self._workers.discard(worker)
        self._changed()
        with contextlib.suppress(OSError):
            worker.conn.close()
        self._in_background(asyncio.to_thread(worker.reap))

    def _detach(self, worker: _Worker) -> None:
        """Stop reading a worker's answers and watching its deadline."""
        with contextlib.suppress(Exception):  # its pipe may be closed already
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        if worker.deadline is not None:
            worker.deadline.cancel()
            worker.deadline = None

    async def _replace(self, dead: _Worker) -> None:
        await asyncio.to_thread(dead.reap)
        log.warning("replacing solver process %s (%s)", dead.process.pid, exit_status(dead.process.exitcode))
        await self._add_until_started()

    async def _add_until_started(self) -> None:
        """Add a process, retrying with a growing delay while starting one fails."""
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

    async def _first_message(self, worker: _Worker, deadline_s: float) -> Any:
        """The worker's start-up message; the loop watches the pipe's fd instead of blocking on it."""
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

    def _on_answer(self, worker: _Worker) -> None:
        """The reader on a worker's pipe: the answers it holds (one read, often several with
        prefetch), or the pipe's end."""
        try:
            data = os.read(worker.conn.fileno(), READ_SIZE)  # the pipe is readable: this does not block
        except OSError:
            data = b""
        if not data:
            self._retire(worker, _crashed(worker.process.exitcode), "crash")
            return
        try:
            answers = [read_outcome(answer) for answer in worker.reader.feed(data)]
        except Exception as exc:  # a garbled answer: the pipe's framing is lost with it
            self._retire(worker, f"the solver's answer could not be read: {type(exc).__name__}", "protocol")
            return
        check = False
        for result in answers:
            if not worker.calls:  # nothing was asked: the process is not in a known state
                self._retire(worker, "the solver process sent an answer to no call; it was replaced", "protocol")
                return
            call = worker.calls.popleft()
            if not call.future.done():  # else its caller gave up; the answer is dropped
                call.future.set_result(result)
            worker.answered += 1
            check = check or result.verdict == "UNKNOWN" or worker.answered % self.recycle_check_calls == 0
        if answers:
            each = (time.monotonic() - worker.started) / len(answers)  # answers in one read ran back to back
            worker.call_time += CALL_TIME_WEIGHT * (each - worker.call_time)
            self._started(worker)
            if check and not worker.draining:
                size = address_space(worker.process.pid)
                if recycle_due(size, worker.address_space_at_start, self._limit):
                    self._recycle(worker, size or 0)
            if worker.draining and not worker.calls:
                self._release(worker)
            self._dispatch()

    def _started(self, worker: _Worker) -> None:
        """The worker's next call (if any) starts now: its time limit starts with it."""
        if worker.deadline is not None:
            worker.deadline.cancel()
            worker.deadline = None
        if worker.calls:
            loop = asyncio.get_running_loop()
            worker.started = time.monotonic()
            worker.deadline = loop.call_later((self.timeout_ms + GRACE_MS) / 1000, self._on_deadline, worker)

    def _on_deadline(self, worker: _Worker) -> None:
        worker.deadline = None
        if worker.conn.poll(0):  # the answer came in just now: read it instead
            self._on_answer(worker)
            if worker.deadline is not None or not worker.calls or worker not in self._ready:
                return  # answered (and the next call's limit armed), or retired while reading
        self._retire(worker, f"timeout after {self.timeout_ms} ms; the solver process was replaced", "timeout")

    def _dispatch(self) -> None:
        """Hand waiting calls to processes while any can take one."""
        while self._waiting and not self._closed:
            call = self._waiting[0]
            if call.future.done():  # its caller gave up while it waited
                self._waiting.popleft()
                continue
            loads = [(len(w.calls), w.started, w.call_time) for w in self._ready]
            index = next_worker(loads, len(call.payload), time.monotonic(), self.prefetch)
            if index is None:
                return
            worker = self._ready[index]
            self._waiting.popleft()
            try:
                write_all(worker.conn.fileno(), call.payload)
            except OSError:  # the process died (e.g. the OOM killer): use another
                self._waiting.appendleft(call)
                self._retire(worker, _crashed(worker.process.exitcode), "crash")
                continue
            worker.calls.append(call)
            if len(worker.calls) == 1:
                self._started(worker)

    async def solve(self, task: FormalTask, backend: Backend) -> SolveOutcome:
        """Run ``task`` on ``backend`` in an idle process, or queued behind a busy one's call
        (``next_worker``), or after waiting for an answer when neither can take it."""
        if self._closed:
            return _unknown(backend, "the solver pool is shut down")
        future: asyncio.Future[SolveOutcome] = asyncio.get_running_loop().create_future()
        payload = frame(call_bytes(task, backend, self.timeout_ms))
        self._waiting.append(_Call(payload=payload, backend=backend, future=future))
        self._dispatch()
        return await future  # a cancelled caller cancels the future: a queued call is then skipped

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
        pending = list(self._waiting)
        for worker in self._workers:  # ready, draining or starting
            self._detach(worker)
            pending.extend(worker.calls)
        for call in pending:
            if not call.future.done():
                call.future.set_result(_unknown(call.backend, "the solver pool is shut down"))
        self._waiting.clear()
        self._ready.clear()
        workers = list(self._workers)
        self._workers.clear()
        self._changed()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.close()
                worker.process.terminate()
        await asyncio.gather(*(asyncio.to_thread(w.reap) for w in workers))


def _crashed(code: int | None) -> str:
    """The answer's detail; the exit code is often not known yet when the pipe closes (the log
    line of the replacement has it)."""
    if code is None:
        return "the solver process crashed; it was replaced"
    return f"the solver process crashed ({exit_status(code)}); it was replaced"


def exit_status(code: int | None) -> str:
    """A process's end in words: ``exit code 1``, ``killed by SIGABRT``."""
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


def not_started(code: int | None, memory_mb: int, said: str | None = None) -> str:
    """Why the pool could not start, and what to check: ``said`` is what the process reported
    before it stopped, if anything; a limit too small to load the solvers often ends the process
    in native code (an abort or a segfault) before it can say why."""
    how = said or exit_status(code)
    return (
        f"a solver process did not start ({how}) under its address-space limit of {memory_mb} MB "
        f"(solver.memory_mb, spec.solver.memoryMB): a process holds about {SOLVER_PROCESS_MB} MB once Z3 and Clingo "
        "are loaded, so a limit close to that can be too small; otherwise the runtime's log shows the process's error"
    )
