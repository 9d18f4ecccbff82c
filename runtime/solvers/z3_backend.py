"""Z3 runs of SymIL problems and SMT-LIB scripts.

Each thread keeps one Z3 context for its calls (each call still gets its own solver): making a
context costs about 5 ms on this project's machine, more than solving a small problem. The
context is replaced every CONTEXT_CALLS calls, since the enumeration sorts a SymIL problem
declares stay in it; each call names its sort uniquely within the context.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import z3

from evolved_runtime.solvers.backends import SolveOutcome, entailment_verdict
from evolved_runtime.symil.models import Problem
from evolved_runtime.symil.to_z3 import Compiled, compile_problem, format_number, read_model

CONTEXT_CALLS = 256
_local = threading.local()


def context() -> tuple[z3.Context, int]:
    """This thread's Z3 context and the number of calls it served before this one."""
    calls: int = getattr(_local, "calls", CONTEXT_CALLS)
    if calls >= CONTEXT_CALLS:
        _local.ctx, calls = z3.Context(), 0
    _local.calls = calls + 1
    return _local.ctx, calls


def _remaining_ms(deadline: float) -> int:
    return max(1, int((deadline - time.monotonic()) * 1000))


def _check(solver: z3.Solver, deadline: float) -> bool | None:
    solver.set("timeout", _remaining_ms(deadline))
    result = solver.check()
    if result == z3.sat:
        return True
    if result == z3.unsat:
        return False
    return None


def solve_problem(problem: Problem, deadline: float) -> SolveOutcome:
    ctx, serial = context()
    compiled = compile_problem(problem, ctx, f"Individual{serial}")
    solver = z3.Solver(ctx=compiled.ctx)
    solver.add(*compiled.premises)
    if compiled.conclusion is None:
        return _constraint_problem(compiled, solver, deadline)
    solver.push()
    solver.add(z3.Not(compiled.conclusion, compiled.ctx))
    main = _check(solver, deadline)
    counter = read_model(compiled, solver.model()) if main else None
    reason = solver.reason_unknown() if main is None else ""
    solver.pop()
    refute: bool | None = None
    if main is not None and time.monotonic() < deadline:
        solver.push()
        solver.add(compiled.conclusion)
        refute = _check(solver, deadline)
        solver.pop()
    verdict, extra, detail = entailment_verdict(main, refute)
    model = {**(counter or {}), **(extra or {})} or None
    return SolveOutcome(verdict=verdict, backend="z3", model=model, detail=reason or detail)


def _constraint_problem(compiled: Compiled, solver: z3.Solver, deadline: float) -> SolveOutcome:
    result = _check(solver, deadline)
    if result is None:
        return SolveOutcome(verdict="UNKNOWN", backend="z3", detail=solver.reason_unknown())
    if not result:
        return SolveOutcome(verdict="UNSAT", backend="z3", detail="the constraints have no solution")
    z3_model = solver.model()
    model = read_model(compiled, z3_model)
    if compiled.variables and not compiled.predicates and time.monotonic() < deadline:
        values = [v == z3_model.eval(v, model_completion=True) for v in compiled.variables.values()]
        solver.add(z3.Not(z3.And(values), compiled.ctx))
        if _check(solver, deadline) is False:
            model["_unique"] = True
    return SolveOutcome(verdict="SAT", backend="z3", model=model, detail="a model satisfies every constraint")


def solve_smtlib(source: str, deadline: float) -> SolveOutcome:
    solver = z3.Solver(ctx=context()[0])
    try:
        solver.from_string(source)
    except z3.Z3Exception as exc:
        message = exc.value.decode() if isinstance(exc.value, bytes) else str(exc.value)
        return SolveOutcome(verdict="UNKNOWN", backend="z3", detail=f"SMT-LIB parse error: {message.strip()}")
    result = _check(solver, deadline)
    if result is None:
        return SolveOutcome(verdict="UNKNOWN", backend="z3", detail=solver.reason_unknown())
    if not result:
        return SolveOutcome(verdict="UNSAT", backend="z3", detail="the assertions are unsatisfiable")
    model: dict[str, Any] = {}
    z3_model = solver.model()
    for decl in sorted(z3_model.decls(), key=lambda d: d.name()):
        value = z3_model[decl]
        model[decl.name()] = format_number(value) if decl.arity() == 0 else str(value)
    return SolveOutcome(verdict="SAT", backend="z3", model=model, detail="the assertions are satisfiable")
