"""Solve functions that misbehave on purpose, for the pool's tests (module-level, so workers can import them)."""

from __future__ import annotations

import os
import time
from typing import Any

from evolved_runtime.solvers.backends import Backend, SolveOutcome, solve_task
from evolved_runtime.symil.formal import FormalTask


def hang(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Ignores its time limit, like a solver stuck in grounding."""
    while True:
        time.sleep(1)


def crash(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Dies the way a native solver crash kills a process."""
    os._exit(13)


def hog(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Allocates without bound."""
    chunks = []
    while True:
        chunks.append(bytearray(50 * 1024 * 1024))


_kept: list[bytearray] = []


def leak(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Keeps 16 MB per call for good, like native solver code that leaks, then solves."""
    _kept.append(bytearray(16 * 1024 * 1024))
    return solve_task(task, backend, timeout_ms)


def slow(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Takes 60% of its time limit, then solves: two in a row exceed the limit of one."""
    time.sleep(0.6 * timeout_ms / 1000)
    return solve_task(task, backend, timeout_ms)


def nothing(task: FormalTask, backend: Backend, timeout_ms: int) -> Any:
    """Returns no outcome (a solve function with a bug)."""
    return None


def by_prompt(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Hangs, crashes, hogs, is slow or returns nothing when the task's source says so; else
    solves for real."""
    source = getattr(task, "source", "")
    if "NOTHING" in source:
        return nothing(task, backend, timeout_ms)  # type: ignore[no-any-return]
    if "HANG" in source:
        return hang(task, backend, timeout_ms)
    if "CRASH" in source:
        return crash(task, backend, timeout_ms)
    if "HOG" in source:
        return hog(task, backend, timeout_ms)
    if "SLOW" in source:
        return slow(task, backend, timeout_ms)
    return solve_task(task, backend, timeout_ms)
