"""Compile SymIL to Z3 (one fresh context per call) and read models back.

Individuals live in an uninterpreted sort (``domain="open"``: classical semantics, Z3 decides the
quantifiers) or in an enumeration sort of the constants (``domain="closed"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from evolved_runtime.symil.analysis import format_fraction, number
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
    Problem,
    Term,
)


@dataclass
class Compiled:
    """Z3 objects for one problem, all in ``ctx``."""

    ctx: z3.Context
    sort: z3.SortRef
    constants: dict[str, z3.ExprRef]
    predicates: dict[str, z3.FuncDeclRef]
    variables: dict[str, z3.ArithRef]
    premises: list[z3.BoolRef] = field(default_factory=list)
    conclusion: z3.BoolRef | None = None


def compile_problem(problem: Problem, ctx: z3.Context | None = None, sort_name: str = "Individual") -> Compiled:
    """``problem`` in ``ctx`` (default: a new context). A context declares each enumeration sort
    name once: callers that reuse one pass a ``sort_name`` not used in it before."""
    ctx = ctx or z3.Context()
    symbols = problem.symbols
    constants: dict[str, z3.ExprRef]
    if problem.domain == "closed":
        sort, values = z3.EnumSort(sort_name, list(symbols.constants), ctx=ctx)
        constants = dict(zip(symbols.constants, values, strict=True))
    else:
        sort = z3.DeclareSort(sort_name, ctx)
        constants = {name: z3.Const(name, sort) for name in symbols.constants}
    predicates = {
        name: z3.Function(name, *([sort] * arity), z3.BoolSort(ctx)) for name, arity in symbols.predicates.items()
    }
    variables: dict[str, z3.ArithRef] = {
        name: z3.Int(name, ctx) if kind == "int" else z3.Real(name, ctx) for name, kind in symbols.variables.items()
    }
    out = Compiled(ctx, sort, constants, predicates, variables)
    builder = _Builder(out)
    out.premises = [builder.formula(p, {}) for p in problem.premises]
    if problem.conclusion is not None:
        out.conclusion = builder.formula(problem.conclusion, {})
    return out


class _Builder:
    def __init__(self, compiled: Compiled) -> None:
        self.c = compiled

    def formula(self, node: Formula, bound: dict[str, z3.ExprRef]) -> z3.BoolRef:
        ctx = self.c.ctx
        if isinstance(node, Atom):
            args = [bound[a] if a in bound else self.c.constants[a] for a in node.args]
            return self.c.predicates[node.pred](*args)
        if isinstance(node, Not):
            return z3.Not(self.formula(node.arg, bound), ctx)
        if isinstance(node, And):
            return z3.And([self.formula(a, bound) for a in node.args])
        if isinstance(node, Or):
            return z3.Or([self.formula(a, bound) for a in node.args])
        if isinstance(node, Implies):
            return z3.Implies(self.formula(node.left, bound), self.formula(node.right, bound), ctx)
        if isinstance(node, Iff):
            return self.formula(node.left, bound) == self.formula(node.right, bound)
        if isinstance(node, ForAll | Exists):
            fresh = {v: z3.Const(v, self.c.sort) for v in node.vars}
            body = self.formula(node.body, {**bound, **fresh})
            make = z3.ForAll if isinstance(node, ForAll) else z3.Exists
            return make(list(fresh.values()), body)
        return self.compare(node)

    def compare(self, node: Compare) -> z3.BoolRef:
        left, right = self.term(node.left), self.term(node.right)
        ops: dict[str, Any] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        return ops[node.op](left, right)

    def term(self, term: Term) -> z3.ArithRef:
        ctx = self.c.ctx
        if isinstance(term, int | float):
            value = number(term)
            if value.denominator == 1 and isinstance(term, int):
                return z3.IntVal(value.numerator, ctx)
            return z3.RealVal(str(value), ctx)
        if isinstance(term, str):
            return self.c.variables[term]
        return self.arith(term)

    def arith(self, term: Arith) -> z3.ArithRef:
        args = [self.term(a) for a in term.args]
        if any(a.is_real() for a in args):
            args = [z3.ToReal(a) if a.is_int() else a for a in args]
        result = args[0]
        if term.op == "-" and len(args) == 1:
            return -result
        for arg in args[1:]:
            if term.op == "+":
                result = result + arg
            elif term.op == "-":
                result = result - arg
            else:
                result = result * arg
        return result


def read_model(compiled: Compiled, model: z3.ModelRef) -> dict[str, Any]:
    """Numeric variables by name, and every true ground atom as ``"pred(a, b)": True``."""
    out: dict[str, Any] = {}
    for name, var in compiled.variables.items():
        out[name] = format_number(model.eval(var, model_completion=True))
    if not compiled.predicates:
        return out
    elements = _elements(compiled, model)
    for name, decl in compiled.predicates.items():
        arity = decl.arity()
        tuples = [(e,) for e in elements] if arity == 1 else [(a, b) for a in elements for b in elements]
        for args in tuples:
            if z3.is_true(model.eval(decl(*[e for e, _ in args]), model_completion=True)):
                out[f"{name}({', '.join(label for _, label in args)})"] = True
    return out


def _elements(compiled: Compiled, model: z3.ModelRef) -> list[tuple[z3.ExprRef, str]]:
    if isinstance(compiled.sort, z3.DatatypeSortRef):
        return [(value, name) for name, value in compiled.constants.items()]
    universe = model.get_universe(compiled.sort) or []
    labelled: list[tuple[z3.ExprRef, str]] = []
    for index, element in enumerate(universe, start=1):
        names = [n for n, c in compiled.constants.items() if model.eval(c, model_completion=True).eq(element)]
        labelled.append((element, "=".join(names) if names else f"_e{index}"))
    if not universe:
        labelled = [(c, n) for n, c in compiled.constants.items()]
    return labelled


def format_number(value: z3.ExprRef) -> int | float | str:
    """Exact value: int when integral, float for finite decimals, else ``"p/q"``."""
    if isinstance(value, z3.IntNumRef):
        return int(value.as_long())
    if isinstance(value, z3.RatNumRef):
        return format_fraction(Fraction(value.numerator_as_long(), value.denominator_as_long()))
    return str(value)
