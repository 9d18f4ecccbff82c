"""Pure analyses of SymIL formulas: symbol tables, linear forms, negation normal form, bounds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

from evolved_runtime.symil.models import (
    And,
    Arith,
    Atom,
    Compare,
    Exists,
    ForAll,
    Formula,
    Iff,
    Implies,
    Not,
    Or,
    Relation,
    Symbols,
    Term,
)

if TYPE_CHECKING:
    from evolved_runtime.symil.models import NumType, Problem

Linear = tuple[dict[str, Fraction], Fraction]
"""``sum(coef * var) + const``."""

NEGATED: dict[Relation, Relation] = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
FLIPPED: dict[Relation, Relation] = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class SymILError(ValueError):
    """A problem that is well-formed JSON but not a meaningful SymIL problem."""


def formulas(problem: Problem) -> list[Formula]:
    out = list(problem.premises)
    if problem.conclusion is not None:
        out.append(problem.conclusion)
    return out


def term_names(term: Term) -> Iterator[str]:
    if isinstance(term, str):
        yield term
    elif isinstance(term, Arith):
        for arg in term.args:
            yield from term_names(arg)


def number(value: int | float) -> Fraction:
    if isinstance(value, float) and not math.isfinite(value):
        raise SymILError(f"numbers must be finite, got {value}")
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def linear(term: Term) -> Linear:
    """Linear form of a term; raises SymILError for a product of two variable terms."""
    if isinstance(term, bool):
        raise SymILError("booleans are not numeric terms")
    if isinstance(term, int | float):
        return {}, number(term)
    if isinstance(term, str):
        return {term: Fraction(1)}, Fraction(0)
    parts = [linear(arg) for arg in term.args]
    if term.op == "+":
        return _sum(parts)
    if term.op == "-":
        if len(parts) == 1:
            return _scale(parts[0], Fraction(-1))
        return _sum([parts[0], *(_scale(p, Fraction(-1)) for p in parts[1:])])
    result: Linear = ({}, Fraction(1))
    for part in parts:
        if result[0] and part[0]:
            raise SymILError("nonlinear term: a product may have at most one factor with variables")
        result = _scale(part, result[1]) if not result[0] else _scale(result, part[1])
    return result


def _sum(parts: Iterable[Linear]) -> Linear:
    coeffs: dict[str, Fraction] = {}
    const = Fraction(0)
    for part_coeffs, part_const in parts:
        const += part_const
        for name, coef in part_coeffs.items():
            coeffs[name] = coeffs.get(name, Fraction(0)) + coef
    return {k: v for k, v in coeffs.items() if v != 0}, const


def _scale(part: Linear, factor: Fraction) -> Linear:
    return {k: v * factor for k, v in part[0].items() if v * factor != 0}, part[1] * factor


def comparison(node: Compare) -> tuple[dict[str, Fraction], Relation, Fraction]:
    """``left rel right`` as ``sum(coef * var) rel bound``."""
    coeffs, const = _sum([linear(node.left), _scale(linear(node.right), Fraction(-1))])
    return coeffs, node.op, -const


def collect_symbols(problem: Problem) -> Symbols:
    """Check names and arities; infer undeclared constants, predicates and numeric variables."""
    if not problem.premises and problem.conclusion is None:
        raise SymILError("a problem needs at least one premise or a conclusion")
    constants = list(dict.fromkeys(problem.constants))
    predicates: dict[str, int] = dict(problem.predicates)
    variables: dict[str, NumType] = dict(problem.variables)
    overlap = set(constants) & set(variables)
    if overlap:
        raise SymILError(f"names used both as constants and numeric variables: {sorted(overlap)}")

    def visit(node: Formula, bound: frozenset[str]) -> None:
        if isinstance(node, Atom):
            arity = predicates.setdefault(node.pred, len(node.args))
            if arity != len(node.args):
                raise SymILError(f"predicate {node.pred!r} has arity {arity} but is used with {len(node.args)}")
            for arg in node.args:
                if arg in bound:
                    continue
                if arg in variables:
                    raise SymILError(f"{arg!r} is a numeric variable but is used as an individual in {node.pred}")
                if arg not in constants:
                    constants.append(arg)
        elif isinstance(node, Not):
            visit(node.arg, bound)
        elif isinstance(node, And | Or):
            for part in node.args:
                visit(part, bound)
        elif isinstance(node, Implies | Iff):
            visit(node.left, bound)
            visit(node.right, bound)
        elif isinstance(node, ForAll | Exists):
            clash = [v for v in node.vars if v in problem.constants or v in variables]
            if clash:
                raise SymILError(f"quantified variable(s) {clash} clash with a constant or numeric variable")
            visit(node.body, bound | frozenset(node.vars))
        else:
            comparison(node)  # linearity check
            for side in (node.left, node.right):
                for name in term_names(side):
                    if name in bound:
                        raise SymILError(f"{name!r} is a quantified individual, not a number")
                    variables.setdefault(name, "real")

    for formula in formulas(problem):
        visit(formula, frozenset())
    overlap = set(constants) & set(variables)
    if overlap:
        raise SymILError(f"names used both as individuals and numbers: {sorted(overlap)}")
    if problem.domain == "closed" and not constants:
        raise SymILError('domain "closed" needs at least one constant')
    return Symbols(constants=constants, predicates=predicates, variables=variables)


def nnf(node: Formula, positive: bool = True) -> Formula:
    """Negation normal form: ``not`` only on atoms; comparisons negate by flipping the relation."""
    if isinstance(node, Atom):
        return node if positive else Not(arg=node)
    if isinstance(node, Compare):
        return node if positive else Compare(op=NEGATED[node.op], left=node.left, right=node.right)
    if isinstance(node, Not):
        return nnf(node.arg, not positive)
    if isinstance(node, And | Or):
        args = [nnf(a, positive) for a in node.args]
        return And(args=args) if isinstance(node, And) == positive else Or(args=args)
    if isinstance(node, Implies):
        return nnf(Or(args=[Not(arg=node.left), node.right]), positive)
    if isinstance(node, Iff):
        both = And(args=[node.left, node.right])
        neither = And(args=[Not(arg=node.left), Not(arg=node.right)])
        return nnf(Or(args=[both, neither]), positive)
    body = nnf(node.body, positive)
    if isinstance(node, ForAll) == positive:
        return ForAll(vars=node.vars, body=body)
    return Exists(vars=node.vars, body=body)


def exists_under_forall(node: Formula, under: bool = False) -> bool:
    """True if an NNF formula has an existential inside a universal (outside Bernays-Schoenfinkel)."""
    if isinstance(node, Exists):
        return under or exists_under_forall(node.body, under)
    if isinstance(node, ForAll):
        return exists_under_forall(node.body, True)
    if isinstance(node, And | Or):
        return any(exists_under_forall(a, under) for a in node.args)
    return False


def compares(node: Formula) -> Iterator[Compare]:
    if isinstance(node, Compare):
        yield node
    elif isinstance(node, Not):
        yield from compares(node.arg)
    elif isinstance(node, And | Or):
        for arg in node.args:
            yield from compares(arg)
    elif isinstance(node, Implies | Iff):
        yield from compares(node.left)
        yield from compares(node.right)
    elif isinstance(node, ForAll | Exists):
        yield from compares(node.body)


def is_pure_order(problem: Problem) -> bool:
    """Every comparison relates two bare variables (only their order matters)."""
    return all(isinstance(c.left, str) and isinstance(c.right, str) for f in formulas(problem) for c in compares(f))


Bounds = dict[str, tuple[Fraction | None, Fraction | None]]


def premise_bounds(problem: Problem) -> Bounds:
    """Sound interval bounds on numeric variables implied by the top-level premise comparisons."""
    types = problem.symbols.variables
    facts: list[tuple[dict[str, Fraction], Relation, Fraction]] = []
    stack: list[Formula] = list(problem.premises)
    while stack:
        node = stack.pop()
        if isinstance(node, And):
            stack.extend(node.args)
        elif isinstance(node, Compare):
            facts.append(comparison(node))
    bounds: Bounds = dict.fromkeys(types, (None, None))
    uppers: list[tuple[dict[str, Fraction], Fraction, bool]] = []  # sum <= k (strict flag)
    for coeffs, rel, k in facts:
        if rel in ("<", "<=", "="):
            uppers.append((coeffs, k, rel == "<"))
        if rel in (">", ">=", "="):
            uppers.append(({n: -c for n, c in coeffs.items()}, -k, rel == ">"))
    for _ in range(2 * len(types) + 2):
        changed = False
        for coeffs, k, strict in uppers:
            for name, coef in coeffs.items():
                rest = Fraction(0)
                for other, c in coeffs.items():
                    if other == name:
                        continue
                    lo, hi = bounds[other]
                    least = lo if c > 0 else hi
                    if least is None:
                        break
                    rest += c * least
                else:
                    limit = (k - rest) / coef
                    changed |= _tighten(bounds, types, name, limit, upper=coef > 0, strict=strict)
        if not changed:
            break
    return bounds


def _tighten(bounds: Bounds, types: dict[str, NumType], name: str, limit: Fraction, upper: bool, strict: bool) -> bool:
    lo, hi = bounds[name]
    if types[name] == "int":
        if upper:
            limit = Fraction(math.ceil(limit) - 1 if strict and limit.denominator == 1 else math.floor(limit))
        else:
            limit = Fraction(math.floor(limit) + 1 if strict and limit.denominator == 1 else math.ceil(limit))
    if upper and (hi is None or limit < hi):
        bounds[name] = (lo, limit)
        return True
    if not upper and (lo is None or limit > lo):
        bounds[name] = (limit, hi)
        return True
    return False


def format_fraction(value: Fraction) -> int | float | str:
    """Exact value: int when integral, float for finite decimals, else ``"p/q"``."""
    if value.denominator == 1:
        return value.numerator
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        return float(value)
    return f"{value.numerator}/{value.denominator}"
