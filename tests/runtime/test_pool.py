"""The solver pool: limits per call, crash isolation, an event loop that never blocks."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest

from evolved_runtime.english import translate
from evolved_runtime.solvers import testing
from evolved_runtime.solvers.backends import Backend
from evolved_runtime.solvers.pool import (
    PREFETCH_MAX_AGE_S,
    PREFETCH_MAX_BYTES,
    PREFETCH_QUEUE_S,
    RECYCLE_SHARE,
    SolverPool,
    exit_status,
    next_cpu,
    next_worker,
    not_started,
    recycle_due,
)
from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask
from tests.runtime.conftest import wait_until

EQUATION = SmtLibTask(source="(declare-const x Int)\n(assert (= (+ (* 3 x) 5) 20))\n(check-sat)")
COLOURING = AspTask(
    source="node(1..4). edge(1,2). edge(2,3). edge(3,4). edge(4,1). col(r). col(g). col(b).\n"
    "1 { color(N,C) : col(C) } 1 :- node(N).\n:- edge(A,B), color(A,C), color(B,C)."
)
# x^3 + y^3 = z^3 over positive integers (Fermat, n = 3): nonlinear, Z3 cannot settle it quickly.
FERMAT = SmtLibTask(
    source="(declare-const x Int)\n(declare-const y Int)\n(declare-const z Int)\n"
    "(assert (and (> x 0) (> y 0) (> z 0)))\n(assert (= (+ (* x x x) (* y y y)) (* z z z)))\n(check-sat)"
)
HANG = SmtLibTask(source="; HANG\n(check-sat)")
CRASH = SmtLibTask(source="; CRASH\n(check-sat)")
HOG = SmtLibTask(source="; HOG\n(check-sat)")
NOTHING = SmtLibTask(source="; NOTHING\n(check-sat)")
SLOW = SmtLibTask(source="; SLOW\n(declare-const x Int)\n(assert (= (+ (* 3 x) 5) 20))\n(check-sat)")


@pytest.fixture
async def pool() -> AsyncIterator[SolverPool]:
    """Two processes running `testing.by_prompt`: real solving, except for HANG/CRASH/HOG tasks."""
    p = SolverPool(size=2, timeout_ms=1000, memory_mb=256, fn=testing.by_prompt)
    await p.start()
    yield p
    await p.close()


async def test_a_real_problem_is_solved_with_its_model(pool: SolverPool) -> None:
    outcome = await pool.solve(EQUATION, "z3")
    assert outcome.verdict == "SAT"
    assert outcome.model is not None
    assert outcome.model["x"] == 5


async def test_a_hard_real_problem_past_its_time_limit_is_unknown_timeout() -> None:
    p = SolverPool(size=1, timeout_ms=200, memory_mb=512)
    await p.start()
    try:
        outcome = await p.solve(FERMAT, "z3")
        assert outcome.verdict == "UNKNOWN"
        assert "timeout" in outcome.detail
        assert (await p.solve(EQUATION, "z3")).verdict == "SAT"
    finally:
        await p.close()


# 13 pigeons in 12 holes: no answer set, and exponential for Clingo's search.
PIGEONS = AspTask(source="p(1..13). h(1..12). 1 { in(P,H) : h(H) } 1 :- p(P). :- in(P,H), in(Q,H), P < Q.")


async def test_a_hard_asp_search_past_its_time_limit_is_interrupted_without_losing_the_process() -> None:
    p = SolverPool(size=1, timeout_ms=300, memory_mb=512)
    await p.start()
    try:
        outcome = await p.solve(PIGEONS, "clingo")
        assert (outcome.verdict, outcome.detail) == ("UNKNOWN", "timed out")  # Clingo stopped, not killed
        assert (await p.solve(COLOURING, "clingo")).verdict == "SAT"
        assert p.replaced == 0
    finally:
        await p.close()


async def test_a_call_that_ignores_its_time_limit_is_killed_and_the_pool_still_serves(pool: SolverPool) -> None:
    hung = await pool.solve(HANG, "z3")
    assert hung.verdict == "UNKNOWN"
    assert "timeout" in hung.detail
    assert (await pool.solve(EQUATION, "z3")).verdict == "SAT"
    assert pool.replaced == 1


async def test_a_crashing_solver_kills_only_its_process(pool: SolverPool) -> None:
    crashed, fine = await asyncio.gather(pool.solve(CRASH, "z3"), pool.solve(EQUATION, "z3"))
    assert crashed.verdict == "UNKNOWN"
    assert "crashed" in crashed.detail
    assert fine.verdict == "SAT"
    assert (await pool.solve(EQUATION, "z3")).verdict == "SAT"
    assert pool.healthy()


async def test_a_pool_of_one_recovers_from_repeated_crashes_and_reports_each_replacement() -> None:
    reasons: list[str] = []
    p = SolverPool(size=1, timeout_ms=300, memory_mb=256, fn=testing.by_prompt, on_replaced=reasons.append)
    await p.start()
    try:
        for _ in range(3):
            assert (await p.solve(CRASH, "z3")).verdict == "UNKNOWN"
        assert (await p.solve(HANG, "z3")).verdict == "UNKNOWN"
        assert (await p.solve(EQUATION, "z3")).verdict == "SAT"
        assert p.replaced == 4
        assert reasons == ["crash", "crash", "crash", "timeout"]
    finally:
        await p.close()


async def test_a_process_killed_while_idle_costs_no_call() -> None:
    p = SolverPool(size=1, timeout_ms=1000, memory_mb=256)
    await p.start()
    try:
        (worker,) = p._workers
        worker.kill()
        await asyncio.to_thread(worker.process.join, 5)
        assert (await p.solve(EQUATION, "z3")).verdict == "SAT"
    finally:
        await p.close()


async def test_a_solve_that_returns_no_outcome_is_unknown_and_its_process_serves_on(pool: SolverPool) -> None:
    nothing = await pool.solve(NOTHING, "z3")
    assert (nothing.verdict, nothing.detail) == ("UNKNOWN", "the solver returned no outcome")
    assert (await pool.solve(EQUATION, "z3")).verdict == "SAT"
    assert pool.replaced == 0


async def test_a_limit_too_small_to_load_the_solvers_fails_the_start_naming_the_setting() -> None:
    p = SolverPool(size=1, timeout_ms=1000, memory_mb=64)  # under what Z3 and Clingo need to load
    with pytest.raises(RuntimeError) as failed:
        await p.start()
    await p.close()
    message = str(failed.value)
    assert "a solver process did not start (" in message  # killed by a signal, or its warm-up failed
    assert "address-space limit of 64 MB" in message
    assert "solver.memory_mb" in message
    assert "spec.solver.memoryMB" in message


def test_a_process_that_said_why_it_did_not_start_is_quoted_instead_of_its_exit() -> None:
    said = "clingo failed on its warm-up problem: UNKNOWN (RuntimeError: can't start new thread)"
    message = not_started(0, 106, said)
    assert f"did not start ({said}) under its address-space limit of 106 MB" in message
    assert "exit code" not in message
    assert "killed by SIGABRT" in not_started(-6, 100)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (None, "still running"),
        (1, "exit code 1"),
        (-6, "killed by SIGABRT"),
        (-9, "killed by SIGKILL"),
        (-99, "killed by signal 99"),
    ],
)
def test_a_process_end_is_said_in_words(code: int | None, text: str) -> None:
    assert exit_status(code) == text


async def test_a_solver_that_allocates_without_bound_hits_the_memory_limit(pool: SolverPool) -> None:
    outcome = await pool.solve(HOG, "z3")
    assert outcome.verdict == "UNKNOWN"
    assert "memory" in outcome.detail
    assert (await pool.solve(EQUATION, "z3")).verdict == "SAT"


async def test_a_process_that_keeps_memory_is_recycled_before_it_fails_and_no_call_fails() -> None:
    # 16 MB kept per call against a 512 MB limit: without recycling, a process would hit the limit
    # within about 20 calls and answer every later call UNKNOWN (each new thread's malloc arena
    # also takes address space: the limit comes sooner than 16 MB x calls suggests).
    reasons: list[str] = []
    p = SolverPool(size=1, timeout_ms=2000, memory_mb=512, fn=testing.leak, recycle_check_calls=1,
                   on_replaced=reasons.append)  # fmt: skip
    await p.start()
    try:
        first = p.pids()
        outcomes = await asyncio.gather(*(p.solve(EQUATION, "z3") for _ in range(40)))
        assert [o.verdict for o in outcomes] == ["SAT"] * 40
        assert p.recycled >= 2
        assert reasons == ["recycled"] * p.recycled
        assert p.replaced == 0  # recycled, not killed
        assert first[0] not in p.pids()

        def gone(pid: int) -> bool:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    return stat.read().split(") ", 1)[1].startswith("Z")  # exited, not yet reaped
            except FileNotFoundError:
                return True

        await wait_until(lambda: gone(first[0]))
        assert len(p.pids()) == 1
    finally:
        await p.close()


async def test_recycled_pinned_processes_stay_spread_over_the_cpus() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    p = SolverPool(size=2, timeout_ms=2000, memory_mb=512, fn=testing.leak, pin_cpus=True, recycle_check_calls=1)
    await p.start()
    try:
        for _ in range(30):  # one at a time: each recycle happens with no call left to answer
            assert (await p.solve(EQUATION, "z3")).verdict == "SAT"
        outcomes = await asyncio.gather(*(p.solve(EQUATION, "z3") for _ in range(30)))
        assert [o.verdict for o in outcomes] == ["SAT"] * 30
        assert p.recycled >= 2

        def settled() -> bool:  # the replacements are up and pinned, the recycled ones gone
            pids = p.pids()
            return len(pids) == 2 and all(len(os.sched_getaffinity(pid)) == 1 for pid in pids)

        await wait_until(settled)
        pinned = sorted(next(iter(os.sched_getaffinity(pid))) for pid in p.pids())
        assert pinned == sorted(cpus[i % len(cpus)] for i in range(2))
    finally:
        await p.close()


async def test_a_process_that_does_not_grow_is_never_recycled() -> None:
    # 256 MB: without one malloc arena per process, the arenas the solvers' threads made took
    # this much address space that a process was recycled every other call
    p = SolverPool(size=1, timeout_ms=500, memory_mb=256, recycle_check_calls=1)
    await p.start()
    try:
        first = p.pids()
        calls: list[tuple[FormalTask, Backend]] = [(EQUATION, "z3"), (COLOURING, "clingo"), (FERMAT, "z3")]
        for task, backend in calls * 4:
            await p.solve(task, backend)  # FERMAT times out (UNKNOWN): a check each time
        assert p.recycled == 0
        assert p.pids() == first
    finally:
        await p.close()


def test_a_process_is_recycled_once_it_used_most_of_the_room_it_had_at_start() -> None:
    limit, start = 1000, 200
    due = start + int(RECYCLE_SHARE * (limit - start))
    assert recycle_due(due, start, limit)
    assert recycle_due(limit, start, limit)  # at the limit: every allocation would fail
    assert not recycle_due(due - 1, start, limit)
    assert not recycle_due(start, start, limit)  # a fresh replacement is not recycled again
    assert not recycle_due(None, start, limit)  # the process is gone
    assert not recycle_due(limit, None, limit)  # its start size is unknown
    assert not recycle_due(limit, limit, limit)  # it started with no room: recycling cannot help


async def test_more_concurrent_calls_than_processes_all_complete(pool: SolverPool) -> None:
    outcomes = await asyncio.gather(
        *(pool.solve(COLOURING if i % 2 else EQUATION, "clingo" if i % 2 else "z3") for i in range(8))
    )
    assert [o.verdict for o in outcomes] == ["SAT"] * 8


async def test_a_cancelled_call_leaves_the_pool_serving(pool: SolverPool) -> None:
    call = asyncio.create_task(pool.solve(HANG, "z3"))
    async with asyncio.timeout(5):
        while pool.busy() != 1:  # noqa: ASYNC110 - wait until the call holds a worker
            await asyncio.sleep(0.005)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    outcomes = await asyncio.gather(*(pool.solve(EQUATION, "z3") for _ in range(3)))
    assert [o.verdict for o in outcomes] == ["SAT"] * 3


async def test_the_event_loop_keeps_running_while_a_solve_hangs(pool: SolverPool) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await pool.solve(HANG, "z3")
    task.cancel()
    assert ticks >= 10  # a blocked loop would have ticked at most once


async def test_health_follows_the_pool_lifecycle() -> None:
    p = SolverPool(size=1, timeout_ms=1000, memory_mb=256)
    assert not p.healthy()
    await p.start()
    assert p.healthy()
    await p.close()
    assert not p.healthy()
    after = await p.solve(EQUATION, "z3")
    assert after.verdict == "UNKNOWN"
    assert "shut down" in after.detail


async def test_the_portfolio_runs_every_applicable_solver_and_reports_agreement() -> None:
    p = SolverPool(size=2, timeout_ms=2000, memory_mb=512)
    await p.start()
    try:
        problem = translate("All cats are mammals. All mammals are animals. Therefore, all cats are animals.", 1)
        assert problem is not None
        result = await p.portfolio(problem)
    finally:
        await p.close()
    assert result.verdict == "VALID"
    assert {o.backend for o in result.outcomes} == {"z3", "clingo"}
    assert result.agree is True


async def until_idle(pool: SolverPool, size: int, timeout_s: float = 30.0) -> None:
    """Poll until ``size`` processes are up and none is busy or starting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not (len(pool.pids()) == size and pool.busy() == 0):
        assert loop.time() < deadline, f"the pool did not settle: {len(pool.pids())} processes, {pool.busy()} busy"
        await asyncio.sleep(0.02)


def allowed_cpus(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


def test_pinned_processes_spread_over_the_cpus_and_a_replacement_takes_the_freed_one() -> None:
    assert next_cpu([0, 1], []) == 0
    assert next_cpu([0, 1], [0]) == 1
    assert next_cpu([0, 1], [0, 1]) == 0
    assert next_cpu([2, 5], [5, 2, 2]) == 5
    assert next_cpu([3], [3, 3]) == 3


async def test_cpu_affinity_spread_pins_each_solver_process_to_its_own_cpu_and_keeps_it_after_a_crash() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    size = min(2, len(cpus))
    p = SolverPool(size=size, timeout_ms=1000, memory_mb=256, fn=testing.by_prompt, pin_cpus=True)
    await p.start()
    try:
        pinned = [allowed_cpus(pid) for pid in p.pids()]
        assert sorted(pinned, key=min) == [{cpu} for cpu in cpus[:size]]
        assert (await p.solve(CRASH, "z3")).verdict == "UNKNOWN"
        await until_idle(p, size)  # the replacement is up
        assert p.replaced == 1
        assert sorted((allowed_cpus(pid) for pid in p.pids()), key=min) == [{cpu} for cpu in cpus[:size]]
    finally:
        await p.close()


async def test_without_cpu_affinity_solver_processes_may_run_on_every_cpu(pool: SolverPool) -> None:
    assert all(allowed_cpus(pid) == os.sched_getaffinity(0) for pid in pool.pids())


def test_a_call_goes_to_an_idle_process_else_behind_the_busy_call_that_started_first_and_recently() -> None:
    now = 100.0
    recent, older, old = now - 0.001, now - 0.002, now - PREFETCH_MAX_AGE_S - 0.001
    short, long = 0.0005, PREFETCH_QUEUE_S  # recent call times
    assert next_worker([(1, recent, short), (0, 0.0, short), (0, 0.0, short)], 100, now, prefetch=1) == 1  # idle first
    assert next_worker([(1, recent, short), (1, older, short)], 100, now, prefetch=1) == 1  # likely to answer first
    assert next_worker([(1, old, short), (1, recent, short)], 100, now, prefetch=1) == 1  # not behind a long call
    assert next_worker([(1, old, short)], 100, now, prefetch=1) is None
    assert next_worker([(2, recent, short)], 100, now, prefetch=1) is None  # its queue is full
    assert next_worker([(2, recent, short)], 100, now, prefetch=2) == 0  # a second queued call: short calls
    assert next_worker([(2, recent, long)], 100, now, prefetch=2) is None  # not behind long ones
    assert next_worker([(1, recent, long)], 100, now, prefetch=2) == 0  # one queued call whatever their time
    assert next_worker([(3, recent, short)], 100, now, prefetch=4) == 0
    assert next_worker([(4, recent, 0.001)], 100, now, prefetch=4) is None  # 4 x 1 ms ahead is too much
    assert next_worker([(1, recent, short)], PREFETCH_MAX_BYTES + 1, now, prefetch=1) is None  # too big to queue
    assert next_worker([(1, recent, short)], 100, now, prefetch=0) is None  # prefetch off
    assert next_worker([], 100, now, prefetch=1) is None


def queued_in_processes(pool: SolverPool) -> list[int]:
    return sorted(len(w.calls) for w in pool._ready)


async def until_sent(pool: SolverPool, calls: int, timeout_s: float = 10.0) -> None:
    """Poll until ``calls`` calls sit in the pool's processes."""
    async with asyncio.timeout(timeout_s):
        while sum(queued_in_processes(pool)) != calls:  # noqa: ASYNC110 - poll the pool's state
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def one_process(timeout_ms: int, prefetch: int) -> AsyncIterator[SolverPool]:
    """A pool of one process running `testing.by_prompt`."""
    p = SolverPool(size=1, timeout_ms=timeout_ms, memory_mb=256, fn=testing.by_prompt, prefetch=prefetch)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


async def test_a_call_queued_behind_one_that_hangs_is_answered_by_the_replacement() -> None:
    async with one_process(timeout_ms=500, prefetch=1) as p:
        hung, queued = asyncio.create_task(p.solve(HANG, "z3")), asyncio.create_task(p.solve(EQUATION, "z3"))
        await until_sent(p, 2)
        assert queued_in_processes(p) == [2]  # the second call waits in the busy process's pipe
        assert "timeout" in (await hung).detail
        assert (await queued).verdict == "SAT"  # it had not started: it ran again on the replacement
        assert p.replaced == 1


async def test_a_call_queued_behind_a_crash_is_answered_by_the_replacement() -> None:
    async with one_process(timeout_ms=1000, prefetch=1) as p:
        crashed, queued = await asyncio.gather(p.solve(CRASH, "z3"), p.solve(EQUATION, "z3"))
        assert "crashed" in crashed.detail
        assert queued.verdict == "SAT"


async def test_the_time_limit_of_a_queued_call_starts_when_it_starts() -> None:
    async with one_process(timeout_ms=1000, prefetch=1) as p:
        first, second = asyncio.create_task(p.solve(SLOW, "z3")), asyncio.create_task(p.solve(SLOW, "z3"))
        await until_sent(p, 2)
        # each takes 600 ms of its 1000 ms; counted from when it was queued the second would time out
        assert [(await first).verdict, (await second).verdict] == ["SAT", "SAT"]
        assert p.replaced == 0


async def test_without_prefetch_calls_wait_for_an_idle_process() -> None:
    async with one_process(timeout_ms=1000, prefetch=0) as p:
        calls = [asyncio.create_task(p.solve(SLOW, "z3")) for _ in range(2)]
        await until_sent(p, 1)
        assert queued_in_processes(p) == [1]
        assert len(p._waiting) == 1
        assert [(await c).verdict for c in calls] == ["SAT", "SAT"]


async def test_a_cancelled_call_still_queued_is_never_run() -> None:
    async with one_process(timeout_ms=1000, prefetch=0) as p:
        running = asyncio.create_task(p.solve(SLOW, "z3"))
        waiting = asyncio.create_task(p.solve(CRASH, "z3"))  # would cost a process if it ran
        await until_sent(p, 1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert (await running).verdict == "SAT"
        assert (await p.solve(EQUATION, "z3")).verdict == "SAT"
        assert p.replaced == 0
