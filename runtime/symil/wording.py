"""Explanations in the user's words, from a problem's ``wording`` (pure; see explain.py).

``premises_used``: the premises linked to the conclusion through shared predicates, individuals
or numbers (a premise linked to none of them cannot change the verdict unless the premises
contradict each other), quoted as written. ``counter_model_in_words``: the solver's model,
restricted to those symbols, said with the phrases the text used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from evolved_runtime.symil.models import And, Atom, Exists, ForAll, Formula, Iff, Implies, Not, Or, Phrase, Problem

_ATOM = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\((.*)\)$")
HELPER_PREFIX = "k_"
"""Numbers the translation introduces (even/odd helpers): never shown in a counter-model."""


def _symbols(formula: Formula, quiet: set[str]) -> set[str]:
    symbols = Problem(premises=[formula]).symbols
    return (set(symbols.predicates) | set(symbols.constants) | set(symbols.variables)) - quiet


def _linked(problem: Problem) -> tuple[list[int], set[str]]:
    """Indices of the premises linked to the conclusion, and every symbol they and it use."""
    assert problem.conclusion is not None
    assert problem.wording is not None
    quiet = {name for name, said in problem.wording.names.items() if said in ("", "it")}  # what propositions are about
    quiet |= {"on"} if problem.domain == "closed" else set()
    reached = _symbols(problem.conclusion, quiet)
    premises = [_symbols(p, quiet) for p in problem.premises]
    used: set[int] = set()
    grew = True
    while grew:
        grew = False
        for index, symbols in enumerate(premises):
            if index not in used and symbols & reached:
                used.add(index)
                reached |= symbols
                grew = True
    return sorted(used), reached | quiet


def premises_used(problem: Problem, everything: bool = False) -> list[str]:
    """The sentences of the premises the verdict rests on, in the text's order, each once."""
    if problem.wording is None or problem.conclusion is None:
        return []
    sources = problem.wording.premises
    indices = range(len(problem.premises)) if everything else _linked(problem)[0]
    quoted = [sources[i].rstrip(".") for i in indices if i < len(sources) and sources[i]]
    return list(dict.fromkeys(quoted))


def _phrase(problem: Problem, pred: str) -> Phrase:
    assert problem.wording is not None
    said = pred.replace("_", " ")
    return problem.wording.phrases.get(pred, Phrase(yes=f"is {said}", no=f"is not {said}"))


def _ground_atoms(problem: Problem) -> set[tuple[str, str]]:
    """(predicate, individual) of every unary atom the problem states of a named individual."""
    found: set[tuple[str, str]] = set()
    constants = set(problem.symbols.constants)
    for formula in [*problem.premises, *([problem.conclusion] if problem.conclusion is not None else [])]:
        for node in _atoms(formula):
            if len(node.args) == 1 and node.args[0] in constants:
                found.add((node.pred, node.args[0]))
    return found


def nodes(formula: Formula) -> Iterator[Formula]:
    """Every sub-formula, the formula first (terms of comparisons are not formulas)."""
    stack = [formula]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Not):
            stack.append(node.arg)
        elif isinstance(node, And | Or):
            stack.extend(node.args)
        elif isinstance(node, Implies | Iff):
            stack.extend([node.left, node.right])
        elif isinstance(node, ForAll | Exists):
            stack.append(node.body)


def _atoms(formula: Formula) -> list[Atom]:
    return [node for node in nodes(formula) if isinstance(node, Atom)]


def counter_model_in_words(problem: Problem, model: dict[str, Any]) -> str:
    """``Michael is a professional athlete and does not train daily`` for a NOT_VALID model.

    A named individual is described by the atoms the text states or asks of it; an individual the
    solver added (a witness of "some") by what holds of it and by the predicates the question asks."""
    assert problem.wording is not None
    assert problem.conclusion is not None
    _, relevant = _linked(problem)
    names = problem.wording.names
    asked = Problem(premises=[problem.conclusion]).symbols.predicates
    unary = [p for p, arity in problem.symbols.predicates.items() if arity == 1 and p in relevant]
    stated = _ground_atoms(problem)
    rule_needs = _rule_conditions(problem)
    true_atoms: dict[str, list[list[str]]] = {}
    things: list[str] = [c for c in problem.symbols.constants if c in relevant]
    for key, value in model.items():
        match = _ATOM.match(key)
        if value is True and match:
            args = [a.strip() for a in match.group(2).split(",")]
            true_atoms.setdefault(match.group(1), []).append(args)
            things += [a for a in args if a not in things and a.startswith("_")]
    lines: list[str] = []
    for thing in things:
        said = []
        for pred in unary:
            holds = [thing] in true_atoms.get(pred, [])
            # A named individual: every predicate the argument links, as the model has it (what a
            # rule needs and the text never says of it is often what makes the conclusion fail).
            shown = (
                (pred, thing) in stated or pred in rule_needs if not thing.startswith("_") else holds or pred in asked
            )
            if shown:
                phrase = _phrase(problem, pred)
                said.append(phrase.yes if holds else phrase.no)
        for first, second in true_atoms.get("on", []) if "on" in relevant else []:
            if first == thing:
                said.append(f"{_phrase(problem, 'on').yes} {_name(second, names)}")
        if not said:
            continue
        subject = _name(thing, names)
        joined = ", ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1]
        lines.append(f"{subject} {joined}".strip() if subject else joined)
    numbers = [
        f"{names.get(k, k)} = {v}" for k, v in model.items() if k in relevant and not k.startswith(HELPER_PREFIX)
    ]
    return "; ".join(lines + numbers)


def _rule_conditions(problem: Problem) -> set[str]:
    """Predicates in the conditions of a premise's rule (the left side of an implication)."""
    out: set[str] = set()
    for premise in problem.premises:
        for node in nodes(premise):
            if isinstance(node, Implies):
                out |= {atom.pred for atom in _atoms(node.left)}
    return out


def _name(constant: str, names: dict[str, str]) -> str:
    if constant.startswith("_"):
        return f"some other individual ({constant[1:]})"
    return names.get(constant, constant)
