"""Hand-written SymIL problems with known answers, solved on every back end that applies."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_runtime.solvers.backends import BACKENDS, applicable_backends, solve_task
from evolved_runtime.symil.models import Problem


def atom(pred: str, *args: str) -> dict[str, Any]:
    return {"op": "atom", "pred": pred, "args": list(args)}


def neg(f: dict[str, Any]) -> dict[str, Any]:
    return {"op": "not", "arg": f}


def conj(*fs: dict[str, Any]) -> dict[str, Any]:
    return {"op": "and", "args": list(fs)}


def disj(*fs: dict[str, Any]) -> dict[str, Any]:
    return {"op": "or", "args": list(fs)}


def imp(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {"op": "implies", "left": a, "right": b}


def iff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {"op": "iff", "left": a, "right": b}


def forall(v: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"op": "forall", "vars": [v], "body": body}


def exists(v: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"op": "exists", "vars": [v], "body": body}


def all_are(a: str, b: str) -> dict[str, Any]:
    return forall("x", imp(atom(a, "x"), atom(b, "x")))


def no_are(a: str, b: str) -> dict[str, Any]:
    return forall("x", imp(atom(a, "x"), neg(atom(b, "x"))))


def some_are(a: str, b: str) -> dict[str, Any]:
    return exists("x", conj(atom(a, "x"), atom(b, "x")))


def some_not(a: str, b: str) -> dict[str, Any]:
    return exists("x", conj(atom(a, "x"), neg(atom(b, "x"))))


def cmp(op: str, left: Any, right: Any) -> dict[str, Any]:
    return {"op": op, "left": left, "right": right}


def add(*args: Any) -> dict[str, Any]:
    return {"op": "+", "args": list(args)}


def mul(*args: Any) -> dict[str, Any]:
    return {"op": "*", "args": list(args)}


def sub(*args: Any) -> dict[str, Any]:
    return {"op": "-", "args": list(args)}


def entail(premises: list[dict[str, Any]], conclusion: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"premises": premises, "conclusion": conclusion, **extra}


def constraints(premises: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"premises": premises, **extra}


# (id, problem, expected verdict, clingo must apply)
LOGIC: list[tuple[str, dict[str, Any], str]] = [
    ("barbara", entail([all_are("a", "b"), all_are("b", "c")], all_are("a", "c")), "VALID"),
    ("celarent", entail([no_are("b", "c"), all_are("a", "b")], no_are("a", "c")), "VALID"),
    ("darii", entail([all_are("b", "c"), some_are("a", "b")], some_are("a", "c")), "VALID"),
    ("ferio", entail([no_are("b", "c"), some_are("a", "b")], some_not("a", "c")), "VALID"),
    ("baroco", entail([all_are("c", "b"), some_not("a", "b")], some_not("a", "c")), "VALID"),
    ("bocardo", entail([some_not("b", "c"), all_are("b", "a")], some_not("a", "c")), "VALID"),
    ("undistributed-middle", entail([all_are("a", "b"), all_are("c", "b")], all_are("a", "c")), "NOT_VALID"),
    ("illicit-conversion", entail([all_are("a", "b")], all_are("b", "a")), "NOT_VALID"),
    ("some-conversion", entail([some_are("a", "b")], some_are("b", "a")), "VALID"),
    ("no-conversion", entail([no_are("a", "b")], no_are("b", "a")), "VALID"),
    ("some-not-no-conversion", entail([some_not("a", "b")], some_not("b", "a")), "NOT_VALID"),
    ("no-existential-import", entail([all_are("a", "b")], some_are("a", "b")), "NOT_VALID"),
    ("existential-import-with-witness", entail([all_are("a", "b"), atom("a", "k")], some_are("a", "b")), "VALID"),
    ("illicit-major", entail([all_are("a", "b"), no_are("c", "a")], no_are("c", "b")), "NOT_VALID"),
    ("two-negatives", entail([no_are("a", "b"), no_are("b", "c")], no_are("a", "c")), "NOT_VALID"),
    ("some-some", entail([some_are("a", "b"), some_are("b", "c")], some_are("a", "c")), "NOT_VALID"),
    ("socrates", entail([all_are("man", "mortal"), atom("man", "socrates")], atom("mortal", "socrates")), "VALID"),
    (
        "affirming-consequent",
        entail([all_are("cat", "mammal"), atom("mammal", "tom")], atom("cat", "tom")),
        "NOT_VALID",
    ),
    (
        "denying-antecedent",
        entail([all_are("cat", "mammal"), neg(atom("cat", "tom"))], neg(atom("mammal", "tom"))),
        "NOT_VALID",
    ),
    (
        "modus-tollens",
        entail([all_are("fish", "swim"), neg(atom("swim", "rex"))], neg(atom("fish", "rex"))),
        "VALID",
    ),
    (
        "disjunctive-syllogism",
        entail([disj(atom("p", "a"), atom("q", "a")), neg(atom("p", "a"))], atom("q", "a")),
        "VALID",
    ),
    (
        "iff-both-ways",
        entail([forall("x", iff(atom("p", "x"), atom("q", "x"))), atom("q", "c")], atom("p", "c")),
        "VALID",
    ),
    ("explosion", entail([atom("p", "a"), neg(atom("p", "a"))], atom("q", "b")), "VALID"),
    (
        "binary-transitive-step",
        entail(
            [
                forall(
                    "x",
                    forall("y", forall("z", imp(conj(atom("r", "x", "y"), atom("r", "y", "z")), atom("r", "x", "z")))),
                ),
                atom("r", "a", "b"),
                atom("r", "b", "c"),
            ],
            atom("r", "a", "c"),
        ),
        "VALID",
    ),
    (
        "binary-no-symmetry",
        entail([atom("likes", "ann", "bob")], atom("likes", "bob", "ann")),
        "NOT_VALID",
    ),
    (
        "closed-domain-all",
        entail([atom("p", "a"), atom("p", "b")], forall("x", atom("p", "x")), domain="closed", constants=["a", "b"]),
        "VALID",
    ),
    ("open-domain-all", entail([atom("p", "a"), atom("p", "b")], forall("x", atom("p", "x"))), "NOT_VALID"),
    (
        "closed-domain-exists-witness",
        entail(
            [exists("x", atom("p", "x")), neg(atom("p", "a"))], atom("p", "b"), domain="closed", constants=["a", "b"]
        ),
        "VALID",
    ),
    (
        "blocks-clear",
        entail(
            [
                forall("x", iff(atom("clear", "x"), forall("y", neg(atom("on", "y", "x"))))),
                atom("on", "a", "b"),
                neg(atom("on", "a", "a")),
                neg(atom("on", "b", "a")),
                neg(atom("on", "b", "b")),
            ],
            atom("clear", "a"),
            domain="closed",
        ),
        "VALID",
    ),
    ("sat-logic", constraints([all_are("a", "b"), atom("a", "k")]), "SAT"),
    ("unsat-logic", constraints([all_are("a", "b"), atom("a", "k"), neg(atom("b", "k"))]), "UNSAT"),
    ("unsat-some-and-none", constraints([some_are("a", "b"), no_are("a", "b")]), "UNSAT"),
]

ARITH: list[tuple[str, dict[str, Any], str]] = [
    ("order-chain", entail([cmp("<", "a", "b"), cmp("=", "b", "c")], cmp("<", "a", "c")), "VALID"),
    ("order-not-chain", entail([cmp("<", "a", "b"), cmp("<", "c", "b")], cmp("<", "a", "c")), "NOT_VALID"),
    ("order-cycle-unsat", constraints([cmp("<", "a", "b"), cmp("<", "b", "c"), cmp("<", "c", "a")]), "UNSAT"),
    (
        "order-weak-cycle",
        entail([cmp(">=", "u", "v"), cmp(">=", "v", "w"), cmp(">=", "w", "u")], cmp("=", "u", "w")),
        "VALID",
    ),
    (
        "facts-with-numbers",
        entail([cmp("=", "x", 5), cmp("=", "y", add("x", 3)), cmp("=", "z", 7)], cmp(">", "y", "z")),
        "VALID",
    ),
    (
        "facts-with-numbers-false",
        entail([cmp("=", "x", 5), cmp("=", "y", sub("x", 3)), cmp("=", "z", 7)], cmp(">", "y", "z")),
        "NOT_VALID",
    ),
    ("linear-equation", constraints([cmp("=", add(mul(3, "x"), 5), 20)]), "SAT"),
    ("linear-equation-int", constraints([cmp("=", add(mul(3, "x"), 5), 20)], variables={"x": "int"}), "SAT"),
    ("int-no-solution", constraints([cmp("=", mul(2, "x"), 5)], variables={"x": "int"}), "UNSAT"),
    ("real-solution", constraints([cmp("=", mul(2, "x"), 5)]), "SAT"),
    ("inequality", constraints([cmp(">", sub(mul(2, "x"), 4), 10)]), "SAT"),
    ("empty-interval", constraints([cmp(">", "x", 3), cmp("<", "x", 2)]), "UNSAT"),
    ("int-gap", constraints([cmp(">", "n", 3), cmp("<", "n", 4)], variables={"n": "int"}), "UNSAT"),
    ("real-gap", constraints([cmp(">", "n", 3), cmp("<", "n", 4)]), "SAT"),
    (
        "bounded-int-entailment",
        entail(
            [cmp(">=", "x", 0), cmp("<=", "x", 10), cmp("=", "y", mul(2, "x"))],
            cmp("<=", "y", 20),
            variables={"x": "int", "y": "int"},
        ),
        "VALID",
    ),
    (
        "bounded-int-parity",
        entail(
            [cmp(">=", "x", 0), cmp("<=", "x", 10), cmp("=", "y", mul(2, "x"))],
            cmp("!=", "y", 7),
            variables={"x": "int", "y": "int"},
        ),
        "VALID",
    ),
    ("system", constraints([cmp("=", add("x", "y"), 10), cmp("=", sub("x", "y"), 2)]), "SAT"),
    ("decimal", entail([cmp("=", "p", 2.5), cmp("=", "c", mul("p", 4))], cmp("=", "c", 10)), "VALID"),
    (
        "disjunctive-numbers",
        entail([disj(cmp("=", "x", 1), cmp("=", "x", 2)), cmp("!=", "x", 1)], cmp("=", "x", 2)),
        "VALID",
    ),
    (
        "unbounded-not-valid",
        entail([cmp(">", "x", 4), cmp("=", "y", add("x", 2))], cmp(">", "y", 7)),
        "NOT_VALID",
    ),
]

CLINGO_MUST_APPLY = {
    "order-chain", "order-not-chain", "order-cycle-unsat", "order-weak-cycle", "facts-with-numbers",
    "facts-with-numbers-false", "linear-equation-int", "int-no-solution", "bounded-int-entailment",
    "bounded-int-parity", "int-gap", "decimal",
}  # fmt: skip


def _cases() -> list[Any]:
    cases = []
    for name, data, expected in LOGIC + ARITH:
        problem = Problem.model_validate(data)
        for backend in applicable_backends(problem):
            cases.append(pytest.param(problem, expected, backend, id=f"{name}-{backend}"))
    return cases


def test_there_are_at_least_forty_problems() -> None:
    assert len(LOGIC) + len(ARITH) >= 40


@pytest.mark.parametrize(("problem", "expected", "backend"), _cases())
def test_backend_gives_the_known_verdict(problem: Problem, expected: str, backend: str) -> None:
    outcome = solve_task(problem, backend, 10_000)  # type: ignore[arg-type]
    assert outcome.verdict == expected, outcome.detail


@pytest.mark.parametrize(("name", "data"), [(n, d) for n, d, _ in LOGIC])
def test_clingo_applies_to_finite_domain_logic(name: str, data: dict[str, Any]) -> None:
    assert applicable_backends(Problem.model_validate(data)) == ["z3", "clingo"], name


@pytest.mark.parametrize("name", sorted(CLINGO_MUST_APPLY))
def test_clingo_applies_to_bounded_arithmetic(name: str) -> None:
    data = next(d for n, d, _ in ARITH if n == name)
    assert "clingo" in applicable_backends(Problem.model_validate(data))


def test_clingo_declines_unbounded_reals_and_nested_existentials() -> None:
    unbounded = Problem.model_validate(constraints([cmp(">", sub(mul(2, "x"), 4), 10)]))
    nested = Problem.model_validate(entail([forall("x", exists("y", atom("r", "x", "y")))], atom("r", "a", "a")))
    assert applicable_backends(unbounded) == ["z3"]
    assert applicable_backends(nested) == ["z3"]
    assert solve_task(nested, "clingo", 1000).verdict == "UNKNOWN"


def test_models_are_read_back() -> None:
    equation = Problem.model_validate(constraints([cmp("=", add(mul(3, "x"), 5), 20)], variables={"x": "int"}))
    for backend in BACKENDS:
        assert solve_task(equation, backend, 5000).model is not None
        assert solve_task(equation, backend, 5000).model["x"] == 5  # type: ignore[index]
    half = Problem.model_validate(constraints([cmp("=", mul(2, "x"), 5)]))
    assert solve_task(half, "z3", 5000).model == {"x": 2.5, "_unique": True}


def test_counter_model_and_refutation() -> None:
    bad = Problem.model_validate(entail([all_are("cat", "mammal"), atom("mammal", "tom")], atom("cat", "tom")))
    for backend in BACKENDS:
        model = solve_task(bad, backend, 5000).model
        assert model is not None
        assert model.get("mammal(tom)") is True
        assert "cat(tom)" not in model
    refuted = Problem.model_validate(
        entail([no_are("bird", "mammal"), atom("bird", "tweety")], atom("mammal", "tweety"))
    )
    for backend in BACKENDS:
        outcome = solve_task(refuted, backend, 5000)
        assert outcome.verdict == "NOT_VALID"
        assert outcome.model is not None
        assert outcome.model.get("_refuted") is True


def test_calls_sharing_a_z3_context_stay_independent_across_its_replacement() -> None:
    from evolved_runtime.solvers import z3_backend
    from evolved_runtime.symil.formal import SmtLibTask

    closed = Problem.model_validate(
        entail([atom("p", "a"), atom("p", "b")], forall("x", atom("p", "x")), domain="closed", constants=["a", "b"])
    )
    other = Problem.model_validate(
        entail([atom("p", "c")], forall("x", atom("p", "x")), domain="closed", constants=["c", "d", "e"])
    )
    declares = SmtLibTask(source="(declare-const x Int)\n(assert (= x 3))\n(check-sat)")
    undeclared = SmtLibTask(source="(assert (= x 3))\n(check-sat)")
    for _ in range(z3_backend.CONTEXT_CALLS // 3 + 2):  # crosses one replacement of the context
        assert solve_task(closed, "z3", 5000).verdict == "VALID"
        assert solve_task(other, "z3", 5000).verdict == "NOT_VALID"  # the same sort, other individuals
        assert solve_task(declares, "z3", 5000).model == {"x": 3}
    outcome = solve_task(undeclared, "z3", 5000)  # an earlier script's declarations do not leak
    assert outcome.verdict == "UNKNOWN"
    assert "unknown constant x" in outcome.detail
