"""Checks that keep a translation that lost meaning from becoming a verdict (docs/symil.md, "Soundness").

A conclusion whose predicate, individual or number appears in no premise cannot have been
understood as the text meant it (``train`` vs ``trains_daily``): the translation is refused, so
the pipeline escalates or declines instead of answering NOT_VALID.
"""

from __future__ import annotations

from collections.abc import Iterable

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.symil.models import Atom, ForAll, Formula, Implies, Problem


def symbols_of(formulas: Iterable[Formula]) -> set[str]:
    """Predicates, constants and numeric variables the formulas use (bound variables excluded)."""
    probe = Problem(premises=list(formulas))
    symbols = probe.symbols
    return set(symbols.predicates) | set(symbols.constants) | set(symbols.variables)


def unconnected(problem: Problem, ignore: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The conclusion's symbols that no premise mentions (helper names in ``ignore`` excepted)."""
    if problem.conclusion is None or not problem.premises:
        return []
    used = symbols_of(problem.premises)
    wanted = symbols_of([problem.conclusion]) - set(ignore)
    return sorted(wanted - used)


def check_connected(problem: Problem, ignore: set[str] | frozenset[str] = frozenset()) -> None:
    missing = unconnected(problem, ignore)
    if missing:
        raise ParseError(f"the conclusion mentions what no premise does: {', '.join(missing)}")


def obligation_axioms(premises: list[Formula], conclusion: Formula | None) -> list[Formula]:
    """What must be done may be done: ``required_V(x) -> allowed_V(x)`` for each V used both ways."""
    formulas = [*premises, *([conclusion] if conclusion is not None else [])]
    predicates = Problem(premises=formulas).symbols.predicates
    axioms: list[Formula] = []
    for name in predicates:
        if name.startswith("required_") and "allowed_" + name.removeprefix("required_") in predicates:
            allowed = "allowed_" + name.removeprefix("required_")
            body = Implies(left=Atom(pred=name, args=["x_"]), right=Atom(pred=allowed, args=["x_"]))
            axioms.append(ForAll(vars=["x_"], body=body))
    return axioms
