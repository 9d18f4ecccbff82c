"""Clingo runs of SymIL problems (via evolved_runtime.symil.to_asp) and of raw ASP programs."""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import clingo

from evolved_runtime.solvers.backends import MAX_ANSWER_SETS, SolveOutcome, entailment_verdict
from evolved_runtime.symil.analysis import format_fraction
from evolved_runtime.symil.models import Problem
from evolved_runtime.symil.to_asp import compile_problem


def _quiet(_code: clingo.MessageCode, _message: str) -> None:
    """Clingo warnings (e.g. undefined atoms) are not errors here."""


class _Timeout(Exception):
    pass


def _solve(
    control: clingo.Control, deadline: float, externals: list[tuple[clingo.Symbol, bool]], limit: int
) -> tuple[list[list[clingo.Symbol]], bool]:
    """Answer sets (up to ``limit``) and whether the search finished; raises _Timeout."""
    found: list[list[clingo.Symbol]] = []

    def on_model(model: clingo.Model) -> bool:
        found.append(list(model.symbols(shown=True)))
        return len(found) < limit

    for symbol, value in externals:
        control.assign_external(symbol, value)
    with control.solve(on_model=on_model, async_=True) as handle:
        if not handle.wait(max(0.0, deadline - time.monotonic())):
            handle.cancel()
            raise _Timeout
        result = handle.get()
    return found, bool(result.exhausted)


def solve_problem(problem: Problem, deadline: float) -> SolveOutcome:
    program = compile_problem(problem)
    control = clingo.Control(["--models=0"], logger=_quiet)
    control.add("base", [], program.source)
    control.ground([("base", [])])
    try:
        if problem.conclusion is None:
            models, _ = _solve(control, deadline, [], 1)
            if not models:
                return SolveOutcome(verdict="UNSAT", backend="clingo", detail="the constraints have no solution")
            return SolveOutcome(
                verdict="SAT",
                backend="clingo",
                model=_decode(models[0], program.scale),
                detail="a model satisfies every constraint",
            )
        main_sym = clingo.Function("check", [clingo.String("main")])
        refute_sym = clingo.Function("check", [clingo.String("refute")])
        main_models, _ = _solve(control, deadline, [(main_sym, True), (refute_sym, False)], 1)
    except _Timeout:
        return SolveOutcome(verdict="UNKNOWN", backend="clingo", detail="timed out")
    refute: bool | None = None
    try:
        refute = bool(_solve(control, deadline, [(main_sym, False), (refute_sym, True)], 1)[0])
    except _Timeout:
        refute = None
    verdict, extra, detail = entailment_verdict(bool(main_models), refute)
    counter = _decode(main_models[0], program.scale) if main_models else {}
    model = {**counter, **(extra or {})} or None
    return SolveOutcome(verdict=verdict, backend="clingo", model=model, detail=detail)


def _decode(symbols: list[clingo.Symbol], scale: dict[str, Fraction]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    atoms: list[str] = []
    for symbol in symbols:
        args = symbol.arguments
        if symbol.name == "val":
            name = args[0].string
            out[name] = format_fraction(Fraction(args[1].number) / scale.get(name, Fraction(1)))
        elif symbol.name == "t":
            atoms.append(f"{args[0].string}({', '.join(a.string for a in args[1:])})")
    for atom in sorted(atoms):
        out[atom] = True
    return out


def solve_program(source: str, deadline: float) -> SolveOutcome:
    messages: list[str] = []

    def log(code: clingo.MessageCode, message: str) -> None:
        if code in (clingo.MessageCode.RuntimeError, clingo.MessageCode.OperationUndefined):
            messages.append(message.strip())

    control = clingo.Control([f"--models={MAX_ANSWER_SETS}"], logger=log)
    try:
        control.add("base", [], source)
        control.ground([("base", [])])
    except RuntimeError as exc:
        detail = "; ".join(messages) or str(exc)
        return SolveOutcome(verdict="UNKNOWN", backend="clingo", detail=f"ASP error: {detail}")
    try:
        models, exhausted = _solve(control, deadline, [], MAX_ANSWER_SETS)
    except _Timeout:
        return SolveOutcome(verdict="UNKNOWN", backend="clingo", detail="timed out")
    if not models:
        return SolveOutcome(verdict="UNSAT", backend="clingo", detail="the program has no answer set")
    answer_sets = [sorted(str(s) for s in m) for m in models]
    more = "" if exhausted else " (more exist)"
    return SolveOutcome(
        verdict="SAT",
        backend="clingo",
        model={"answer_sets": answer_sets, "complete": exhausted},
        detail=f"{len(answer_sets)} answer set(s){more}",
    )
