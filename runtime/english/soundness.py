"""Checks that keep a translation that lost meaning from becoming a verdict (docs/symil.md, "Soundness").

A conclusion whose predicate, individual or number appears in no premise cannot have been
understood as the text meant it (``train`` vs ``trains_daily``): the translation is refused, so
the pipeline escalates or declines instead of answering NOT_VALID.
"""

from __future__ import annotations

from collections.abc import Iterable

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.symil.models import Atom, Exists, ForAll, Formula, Implies, Not, Or, Problem
from evolved_runtime.symil.wording import nodes


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


def isolated(problem: Problem, ignore: set[str] | frozenset[str] = frozenset()) -> list[int]:
    """Premises that share no predicate, individual or number with any other premise or the conclusion.

    A sentence about nothing else in the text is most often one the grammar misread ("Maria works
    overtime" read as "maria-works do overtime"); the text is refused rather than answered without it."""
    formulas = [*problem.premises, *([problem.conclusion] if problem.conclusion is not None else [])]
    if len(formulas) < 2:
        return []
    symbols = [symbols_of([f]) - set(ignore) for f in formulas]
    lonely: list[int] = []
    for index in range(len(problem.premises)):
        others = set().union(*(s for i, s in enumerate(symbols) if i != index))
        if not symbols[index] & others:
            lonely.append(index)
    return lonely


def dangling_facts(problem: Problem) -> list[str]:
    """Predicates stated of a named individual that no other premise or conclusion uses.

    "Tweety is a penguin" next to "Every bird can fly" relates the fact to the rule only through
    world knowledge (penguins are birds, and do not fly): an answer without that knowledge is not
    what the asker means, so the text is refused."""
    formulas = [*problem.premises, *([problem.conclusion] if problem.conclusion is not None else [])]
    counts: dict[str, int] = {}
    for formula in formulas:
        for pred in Problem(premises=[formula]).symbols.predicates:
            counts[pred] = counts.get(pred, 0) + 1
    facts: list[str] = []
    for premise in problem.premises:
        inner = premise.arg if isinstance(premise, Not) else premise
        if isinstance(inner, Atom) and counts.get(inner.pred) == 1 and inner.pred not in facts:
            facts.append(inner.pred)
    return facts


def _disjuncts(formula: Formula) -> set[str]:
    """Predicates of the atoms (or negated atoms) an "or" joins, anywhere in the formula."""
    found: set[str] = set()
    for node in nodes(formula):
        if isinstance(node, Or):
            for arg in node.args:
                inner = arg.arg if isinstance(arg, Not) else arg
                if isinstance(inner, Atom):
                    found.add(inner.pred)
    return found


def _has_existential(formula: Formula) -> bool:
    return any(
        isinstance(node, Exists) or (isinstance(node, Not) and isinstance(node.arg, ForAll)) for node in nodes(formula)
    )


def reading_dependent(problem: Problem, exceptions: set[str]) -> str | None:
    """Why the verdict would depend on a reading the text does not fix, or None.

    - "Either A or B. A. Is B false?": "or" is inclusive in logic, often exclusive in speech.
    - "All employees except interns may park. Bob is an intern. May Bob not park?": an exception is
      often read as the opposite rule, in law it only limits the rule.
    - "All unicorns are horned. Therefore some unicorns are horned.": traditional logic assumes that
      the classes of "all" are not empty (existential import), modern logic does not."""
    conclusion = problem.conclusion
    if conclusion is None:
        return None
    if isinstance(conclusion, Not) and isinstance(conclusion.arg, Atom):
        pred = conclusion.arg.pred
        if pred in exceptions:
            return f"the opposite of a rule with an exception ({pred})"
        if any(pred in _disjuncts(p) for p in problem.premises):
            return f"the negation of one side of an 'or' ({pred})"
    existential = isinstance(conclusion, Exists) or (isinstance(conclusion, Not) and isinstance(conclusion.arg, ForAll))
    if existential and not problem.symbols.constants and not any(_has_existential(p) for p in problem.premises):
        return "'some' from 'all' alone (existential import)"
    return None


def check_connected(problem: Problem, ignore: set[str] | frozenset[str] = frozenset()) -> None:
    """Raise ParseError when the conclusion, a premise or a fact is about nothing the rest of the text mentions."""
    missing = unconnected(problem, ignore)
    if missing:
        raise ParseError(f"the conclusion mentions what no premise does: {', '.join(missing)}")
    lonely = isolated(problem, ignore)
    if lonely:
        raise ParseError(f"premise {lonely[0] + 1} shares nothing with the rest of the text")
    dangling = dangling_facts(problem)
    if dangling:
        raise ParseError(f"a fact that nothing else in the text relates to: {', '.join(dangling)}")


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
