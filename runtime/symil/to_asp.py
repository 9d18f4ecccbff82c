"""Compile SymIL to a ground Clingo program with classical (not closed-world) semantics.

Every ground atom gets a choice rule, so answer sets are exactly the classical interpretations;
each formula is grounded over a finite domain and defined by rules (one derived atom per
subformula, negation only on chosen atoms), then required by an integrity constraint.

The domain is sound only where :func:`asp_applicability` says so:
- ``domain="closed"``: the constants are all the individuals.
- ``domain="open"``: the checked formulas must have no existential under a universal (in negation
  normal form). Outer existentials become fresh witness individuals (Skolem constants), and
  such a formula has a model iff it has one over the constants plus witnesses (Herbrand).
Numeric variables need a finite, sound range: either every comparison relates two bare variables
(ranks 0..n-1 realise any order), or the premises bound every integer variable and pin every
real variable to one value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product

from evolved_runtime.symil.analysis import (
    Bounds,
    comparison,
    exists_under_forall,
    is_pure_order,
    nnf,
    premise_bounds,
)
from evolved_runtime.symil.models import And, Atom, Compare, Exists, ForAll, Formula, Not, Or, Problem

MAX_RANGE = 2_000
MAX_GROUND_PER_COMPARISON = 200_000

CHECKS = ("main", "refute")
"""``main``: premises and not conclusion (or premises alone); ``refute``: premises and conclusion."""


@dataclass
class AspProgram:
    source: str
    scale: dict[str, Fraction]  # value of a numeric variable = ASP value / scale
    witnesses: list[str] = field(default_factory=list)


def asp_applicability(problem: Problem) -> str | None:
    """None when the encoding is sound for this problem, else the reason it is not."""
    if problem.domain == "open":
        for formula in _checked_formulas(problem):
            if exists_under_forall(nnf(formula)):
                return "an existential inside a universal has no finite Herbrand domain"
    checked = [nnf(f) for f in _checked_formulas(problem)]
    domain = len(problem.symbols.constants) + sum(_count_exists(f) for f in checked) + 1
    ground = sum(domain ** _quantifier_depth(f) for f in checked)
    if ground > MAX_GROUND_PER_COMPARISON:
        return f"grounding over {domain} individuals would take about {ground} cases"
    variables = problem.symbols.variables
    if not variables or is_pure_order(problem):
        return None
    ranges = _ranges(problem)
    if isinstance(ranges, str):
        return ranges
    for formula in _checked_formulas(problem):
        for node in _compares_nnf(nnf(formula)):
            coeffs = comparison(node)[0]
            size = math.prod(len(ranges[name]) for name in coeffs)
            if size > MAX_GROUND_PER_COMPARISON:
                return f"a comparison would ground {size} cases (limit {MAX_GROUND_PER_COMPARISON})"
    return None


def _quantifier_depth(node: Formula) -> int:
    if isinstance(node, ForAll | Exists):
        return len(node.vars) + _quantifier_depth(node.body)
    if isinstance(node, And | Or):
        return max(_quantifier_depth(a) for a in node.args)
    return 0


def _count_exists(node: Formula) -> int:
    if isinstance(node, Exists):
        return len(node.vars) + _count_exists(node.body)
    if isinstance(node, ForAll):
        return _count_exists(node.body)
    if isinstance(node, And | Or):
        return sum(_count_exists(a) for a in node.args)
    return 0


def _checked_formulas(problem: Problem) -> list[Formula]:
    out = list(problem.premises)
    if problem.conclusion is not None:
        out += [Not(arg=problem.conclusion), problem.conclusion]
    return out


def _compares_nnf(node: Formula) -> list[Compare]:
    if isinstance(node, Compare):
        return [node]
    if isinstance(node, And | Or):
        return [c for a in node.args for c in _compares_nnf(a)]
    if isinstance(node, ForAll | Exists):
        return _compares_nnf(node.body)
    return []


def _ranges(problem: Problem) -> dict[str, range] | str:
    """ASP value range per numeric variable (values scaled per :func:`_scales`), or a reason."""
    variables = problem.symbols.variables
    if is_pure_order(problem):
        return {name: range(len(variables)) for name in variables}
    bounds = premise_bounds(problem)
    out: dict[str, range] = {}
    for name, kind in variables.items():
        lo, hi = bounds[name]
        if lo is None or hi is None:
            return f"{name} is not bounded by the premises"
        if kind == "real" and lo != hi:
            return f"real variable {name} is not fixed to one value by the premises"
        if hi - lo > MAX_RANGE:
            return f"{name} ranges over more than {MAX_RANGE} values"
        scale = _scale_of(lo)
        out[name] = range(int(lo * scale), int(hi * scale) + 1) if lo <= hi else range(0)
    return out


def _scale_of(value: Fraction) -> int:
    return value.denominator


def _bounds_scales(problem: Problem) -> dict[str, Fraction]:
    if is_pure_order(problem):
        return {name: Fraction(1) for name in problem.symbols.variables}
    bounds: Bounds = premise_bounds(problem)
    return {name: Fraction(_scale_of(lo)) if lo is not None else Fraction(1) for name, (lo, _) in bounds.items()}


def compile_problem(problem: Problem) -> AspProgram:
    """Ground program; solve with external ``check("main")`` (or ``check("refute")``) set true."""
    reason = asp_applicability(problem)
    if reason is not None:
        raise ValueError(f"clingo does not apply: {reason}")
    ranges = _ranges(problem)
    assert not isinstance(ranges, str)
    scales = _bounds_scales(problem)
    grounder = _Grounder(problem, scales)
    premises = [grounder.prepare(p) for p in problem.premises]
    checks: dict[str, Formula] = {}
    if problem.conclusion is not None:
        checks["main"] = grounder.prepare(Not(arg=problem.conclusion))
        checks["refute"] = grounder.prepare(problem.conclusion)
    domain = list(problem.symbols.constants) + grounder.witnesses or ["_e1"]
    lines: list[str] = []
    for name, values in ranges.items():
        lines.append(f"1 {{ val({_q(name)}, {values.start}..{values.stop - 1}) }} 1.")
    for formula in premises:
        lines.append(f":- not {grounder.node(formula, domain, {})}.")
    for check, formula in checks.items():
        lines.append(f"#external check({_q(check)}).")
        lines.append(f":- check({_q(check)}), not {grounder.node(formula, domain, {})}.")
    for atom in grounder.atoms:
        lines.append(f"{{ {atom} }}.")
    lines.extend(grounder.rules)
    lines.append("#show t/2. #show t/3. #show val/2.")
    return AspProgram(source="\n".join(lines), scale=scales, witnesses=grounder.witnesses)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Grounder:
    def __init__(self, problem: Problem, scales: dict[str, Fraction]) -> None:
        self.problem = problem
        self.scales = scales
        self.witnesses: list[str] = []
        self.atoms: dict[str, None] = {}
        self.rules: list[str] = []
        self.count = 0

    def prepare(self, formula: Formula) -> Formula:
        """NNF; in an open domain, outer existentials become witness constants."""
        node = nnf(formula)
        return self._skolemize(node, {}) if self.problem.domain == "open" else node

    def _skolemize(self, node: Formula, rename: dict[str, str]) -> Formula:
        if isinstance(node, Exists):
            fresh = dict(rename)
            for var in node.vars:
                self.witnesses.append(f"_w{len(self.witnesses) + 1}")
                fresh[var] = self.witnesses[-1]
            return self._skolemize(node.body, fresh)
        if isinstance(node, ForAll):
            inner = {k: v for k, v in rename.items() if k not in node.vars}
            return ForAll(vars=node.vars, body=self._skolemize(node.body, inner))
        if isinstance(node, And | Or):
            args = [self._skolemize(a, rename) for a in node.args]
            return And(args=args) if isinstance(node, And) else Or(args=args)
        if isinstance(node, Not):
            return Not(arg=self._skolemize(node.arg, rename))
        if isinstance(node, Atom) and rename:
            # witness names start with "_" so they never clash with SymIL names (hence no validation)
            return Atom.model_construct(pred=node.pred, args=[rename.get(a, a) for a in node.args])
        return node

    def node(self, formula: Formula, domain: list[str], env: dict[str, str]) -> str:
        """A body literal true exactly when the ground formula holds."""
        if isinstance(formula, Atom):
            return self._atom(formula, env)
        if isinstance(formula, Not):
            assert isinstance(formula.arg, Atom)
            return f"not {self._atom(formula.arg, env)}"
        if isinstance(formula, Compare):
            return self._compare(formula)
        name = self._fresh()
        if isinstance(formula, ForAll | Exists):
            envs = [
                {**env, **dict(zip(formula.vars, values, strict=True))}
                for values in product(domain, repeat=len(formula.vars))
            ]
            parts = [self.node(formula.body, domain, e) for e in envs]
            conjunctive = isinstance(formula, ForAll)
        else:
            assert isinstance(formula, And | Or)
            parts = [self.node(a, domain, env) for a in formula.args]
            conjunctive = isinstance(formula, And)
        if conjunctive:
            self.rules.append(f"{name} :- {', '.join(parts)}." if parts else f"{name}.")
        else:
            self.rules.extend(f"{name} :- {part}." for part in parts)
        return name

    def _fresh(self) -> str:
        self.count += 1
        return f"n({self.count})"

    def _atom(self, atom: Atom, env: dict[str, str]) -> str:
        text = f"t({', '.join(_q(x) for x in [atom.pred, *(env.get(a, a) for a in atom.args)])})"
        self.atoms[text] = None
        return text

    def _compare(self, node: Compare) -> str:
        coeffs, rel, bound = comparison(node)
        # value = asp / scale, so coef * value = (coef / scale) * asp
        scaled = {name: coef / self.scales[name] for name, coef in coeffs.items()}
        lcm = math.lcm(bound.denominator, *(c.denominator for c in scaled.values()))
        name = self._fresh()
        body = [f"val({_q(var)}, V{i})" for i, var in enumerate(scaled)]
        total = " + ".join(f"({int(c * lcm)})*V{i}" for i, c in enumerate(scaled.values())) or "0"
        body.append(f"{total} {rel} {int(bound * lcm)}")
        self.rules.append(f"{name} :- {', '.join(body)}.")
        return name
