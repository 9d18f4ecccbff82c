"""Clingo runs of SymIL problems (via evolved_runtime.symil.to_asp) and of raw ASP programs.

Searches run synchronously; the time limit comes from one watchdog thread per process that
interrupts a search still running at its deadline (``Control.interrupt`` is thread-safe).
Clingo's own asynchronous solve would start a thread per search: about 1 ms per call on this
project's machine, half the cost of a small problem.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


class _Watchdog:
    """Interrupts the search of the one control it watches once its deadline passes. It sleeps
    until the earliest deadline it knows of; a call that starts while it sleeps with an earlier
    wake-up needs no signal (the thread re-reads the deadline when it wakes)."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)  # a forked child has no watchdog thread

    def reset(self) -> None:
        self._lock = threading.Condition()
        self._control: clingo.Control | None = None
        self._deadline = 0.0
        self._wakes_at: float | None = None  # None: waiting for work (or not started)
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, control: clingo.Control, deadline: float) -> Iterator[None]:
        with self._lock:
            self._control, self._deadline = control, deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="clingo-watchdog", daemon=True)
                self._thread.start()
            elif self._wakes_at is None or self._wakes_at > deadline:
                self._lock.notify()
        try:
            yield
        finally:
            with self._lock:
                self._control = None

    def _run(self) -> None:
        with self._lock:
            while True:
                if self._control is None:
                    self._wakes_at = None
                    self._lock.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    self._control.interrupt()
                    self._control = None
                    continue
                self._wakes_at = self._deadline
                self._lock.wait(remaining)


_watchdog = _Watchdog()


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
    if time.monotonic() >= deadline:
        raise _Timeout
    with _watchdog.watch(control, deadline):
        result = control.solve(on_model=on_model)
    if result.interrupted:
        raise _Timeout
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


def _as_text(models: list[list[clingo.Symbol]]) -> list[list[str]]:
    """Each answer set as sorted atoms. Answer sets share most atoms (the facts): each distinct
    symbol is printed once (a print is two calls into the library, hashing one)."""
    printed: dict[clingo.Symbol, str] = {}
    out = []
    for model in models:
        atoms = []
        for symbol in model:
            text = printed.get(symbol)
            if text is None:
                text = printed[symbol] = str(symbol)
            atoms.append(text)
        out.append(sorted(atoms))
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
    answer_sets = _as_text(models)
    more = "" if exhausted else " (more exist)"
    return SolveOutcome(
        verdict="SAT",
        backend="clingo",
        model={"answer_sets": answer_sets, "complete": exhausted},
        detail=f"{len(answer_sets)} answer set(s){more}",
    )
