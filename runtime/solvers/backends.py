"""Run one formal task on one solver, in process, within a time limit.

``solve_task`` never raises for a well-formed task: solver errors and timeouts become UNKNOWN
with the reason in ``detail``. Every call builds its own Z3 solver (in its thread's Z3 context)
and its own Clingo control, so calls are independent across threads and processes. Inputs and
outputs are picklable.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel

from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask
from evolved_runtime.symil.models import Verdict

Backend = Literal["z3", "clingo"]
BACKENDS: tuple[Backend, ...] = ("z3", "clingo")
MAX_ANSWER_SETS = 10


class SolveOutcome(BaseModel):
    verdict: Verdict
    backend: Backend
    model: dict[str, Any] | None = None
    detail: str = ""


def applicable_backends(task: FormalTask) -> list[Backend]:
    """The solvers whose encoding of this task is sound (see evolved_runtime.symil.to_asp)."""
    if isinstance(task, SmtLibTask):
        return ["z3"]
    if isinstance(task, AspTask):
        return ["clingo"]
    from evolved_runtime.symil.to_asp import asp_applicability

    return ["z3", "clingo"] if asp_applicability(task) is None else ["z3"]


def solve_task(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """Solve ``task`` on ``backend``; UNKNOWN (with a reason) when it cannot answer in time."""
    deadline = time.monotonic() + max(timeout_ms, 1) / 1000
    try:
        if backend == "z3":
            if isinstance(task, AspTask):
                return _unknown(backend, "z3 does not run ASP programs; use clingo")
            if isinstance(task, SmtLibTask):
                from evolved_runtime.solvers import z3_backend

                return z3_backend.solve_smtlib(task.source, deadline)
            from evolved_runtime.solvers import z3_backend

            return z3_backend.solve_problem(task, deadline)
        if backend == "clingo":
            if isinstance(task, SmtLibTask):
                return _unknown(backend, "clingo does not run SMT-LIB; use z3")
            from evolved_runtime.solvers import clingo_backend

            if isinstance(task, AspTask):
                return clingo_backend.solve_program(task.source, deadline)
            return clingo_backend.solve_problem(task, deadline)
        return _unknown("z3", f"unknown backend {backend!r}")
    except Exception as exc:  # a solver failure must not take the worker down
        return _unknown(backend if backend in BACKENDS else "z3", f"{type(exc).__name__}: {exc}")


def _unknown(backend: Backend, detail: str) -> SolveOutcome:
    return SolveOutcome(verdict="UNKNOWN", backend=backend, detail=detail)


def entailment_verdict(main: bool | None, refute: bool | None) -> tuple[Verdict, dict[str, Any] | None, str]:
    """Verdict from two satisfiability checks: ``main`` = premises and not conclusion is satisfiable,
    ``refute`` = premises and conclusion is satisfiable (None = unknown). Returns the verdict, extra
    model keys and a detail line."""
    if main is None:
        return "UNKNOWN", None, "the solver could not decide within its limits"
    if main:
        if refute is False:
            return "NOT_VALID", {"_refuted": True}, "the premises entail the negation of the conclusion"
        return "NOT_VALID", None, "a counter-model satisfies the premises but not the conclusion"
    if refute is False:
        return "VALID", {"_premises_inconsistent": True}, "the premises contradict each other"
    return "VALID", None, "premises and the negated conclusion are unsatisfiable"
