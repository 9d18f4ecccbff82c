"""Human answer text for a verdict; the first word is always the verdict.

When the problem carries its ``wording`` (the controlled-English translation fills it), a verdict
also quotes the premises it rests on, as the user wrote them, and NOT_VALID describes the
counter-model in words ("Michael is a professional athlete and does not train daily").
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from evolved_runtime.symil.analysis import FLIPPED, comparison, format_fraction
from evolved_runtime.symil.formal import AspTask, FormalTask
from evolved_runtime.symil.models import And, Compare, Problem, Relation, Verdict
from evolved_runtime.symil.wording import counter_model_in_words, premises_used

MAX_LISTED = 12


def explain(task: FormalTask, verdict: Verdict, model: dict[str, Any] | None) -> str:
    model = model or {}
    worded = isinstance(task, Problem) and task.wording is not None and task.conclusion is not None
    if verdict == "VALID":
        text = "VALID: the conclusion follows from the premises."
        if model.get("_premises_inconsistent"):
            text += " (Vacuously: the premises contradict each other.)"
        if worded:
            assert isinstance(task, Problem)
            text += _used(task, everything=bool(model.get("_premises_inconsistent")))
        return text
    if verdict == "NOT_VALID":
        text = "NOT_VALID: the conclusion does not follow from the premises."
        if model.get("_refuted"):
            text += " In fact the premises imply that it is false."
            return text + _used(task, everything=False) if worded and isinstance(task, Problem) else text
        if worded and isinstance(task, Problem):
            words = counter_model_in_words(task, model)
            return text + (f" Counterexample: {words}." if words else "") + _used(task, everything=False)
        shown = _assignments(model)
        return text + (f" Counterexample: {shown}." if shown else "")
    if verdict == "SAT":
        return "SAT: " + _sat_text(task, model)
    if verdict == "UNSAT":
        if isinstance(task, AspTask):
            return "UNSAT: the program has no answer set."
        return "UNSAT: the constraints have no solution."
    return "UNKNOWN: the solvers could not decide this within their limits."


def _used(task: Problem, everything: bool) -> str:
    quoted = premises_used(task, everything)
    if not quoted:
        return ""
    return " Premises used: " + " ".join(f"\u201c{q}.\u201d" for q in quoted)


def _assignments(model: dict[str, Any]) -> str:
    items = [(k, v) for k, v in model.items() if not k.startswith("_")]
    values = [f"{k} = {v}" for k, v in items if v is not True]
    atoms = [k for k, v in items if v is True]
    parts = values + atoms
    more = f", ... ({len(parts) - MAX_LISTED} more)" if len(parts) > MAX_LISTED else ""
    return ", ".join(parts[:MAX_LISTED]) + more


def _sat_text(task: FormalTask, model: dict[str, Any]) -> str:
    if "answer_sets" in model:
        sets = model["answer_sets"]
        more = "" if model.get("complete") else " (more exist)"
        listed = "; ".join("{" + ", ".join(s) + "}" for s in sets[:3])
        return f"{len(sets)} answer set(s){more}: {listed}"
    text = _assignments(model) or "the constraints are satisfiable"
    if isinstance(task, Problem):
        solutions = describe_solutions(task)
        if solutions and not (model.get("_unique") and "=" in solutions and " and " not in solutions):
            return f"{text} (all solutions: {solutions})"
    if model.get("_unique"):
        text += " (the only solution)"
    return text


def describe_solutions(problem: Problem) -> str | None:
    """The solution set of one-variable linear constraints (e.g. ``x > 7``), when that is all there is."""
    if problem.conclusion is not None or problem.symbols.predicates or len(problem.symbols.variables) != 1:
        return None
    ((name, kind),) = problem.symbols.variables.items()
    stack = list(problem.premises)
    facts: list[tuple[Relation, Fraction]] = []
    while stack:
        node = stack.pop()
        if isinstance(node, And):
            stack.extend(node.args)
            continue
        if not isinstance(node, Compare):
            return None
        coeffs, rel, bound = comparison(node)
        if not coeffs:
            continue
        coef = coeffs[name]
        facts.append((rel if coef > 0 else FLIPPED[rel], bound / coef))
    lower: tuple[Fraction, bool] | None = None  # (value, strict)
    upper: tuple[Fraction, bool] | None = None
    excluded: list[Fraction] = []
    for rel, value in facts:
        if rel in (">", ">=", "="):
            candidate = (value, rel == ">")
            if lower is None or candidate[0] > lower[0] or (candidate[0] == lower[0] and candidate[1]):
                lower = candidate
        if rel in ("<", "<=", "="):
            candidate = (value, rel == "<")
            if upper is None or candidate[0] < upper[0] or (candidate[0] == upper[0] and candidate[1]):
                upper = candidate
        if rel == "!=":
            excluded.append(value)
    if kind == "int":
        lower = (_int_ceil(lower), False) if lower else None
        upper = (_int_floor(upper), False) if upper else None
    parts: list[str] = []
    if lower and upper and lower[0] == upper[0] and not (lower[1] or upper[1]):
        parts.append(f"{name} = {_num(lower[0])}")
    else:
        if lower:
            parts.append(f"{name} {'>' if lower[1] else '>='} {_num(lower[0])}")
        if upper:
            parts.append(f"{name} {'<' if upper[1] else '<='} {_num(upper[0])}")
    parts += [f"{name} != {_num(v)}" for v in sorted(set(excluded))]
    if kind == "int" and parts:
        parts.append(f"{name} an integer")
    return " and ".join(parts) or None


def _int_ceil(bound: tuple[Fraction, bool]) -> Fraction:
    value, strict = bound
    return Fraction(value.__floor__() + 1) if strict and value.denominator == 1 else Fraction(value.__ceil__())


def _int_floor(bound: tuple[Fraction, bool]) -> Fraction:
    value, strict = bound
    return Fraction(value.__ceil__() - 1) if strict and value.denominator == 1 else Fraction(value.__floor__())


def _num(value: Fraction) -> str:
    return str(format_fraction(value))
