"""Input that is already formal (SymIL JSON, SMT-LIB 2, ASP) runs without an LLM."""

from __future__ import annotations

import json

import pytest

from evolved_runtime.solvers.backends import applicable_backends, solve_task
from evolved_runtime.symil import AspTask, FormalInputError, Problem, SmtLibTask, explain, extract_formal

SYMIL = {"premises": [{"op": "=", "left": "x", "right": 5}], "conclusion": {"op": ">", "left": "x", "right": 3}}


def fenced(tag: str, body: str) -> str:
    return f"Please check this:\n```{tag}\n{body}\n```\nthanks"


def test_symil_block_is_validated_and_solved() -> None:
    task = extract_formal(fenced("symil", json.dumps(SYMIL)))
    assert isinstance(task, Problem)
    assert [solve_task(task, b, 5000).verdict for b in applicable_backends(task)] == ["VALID", "VALID"]


def test_json_block_counts_only_when_it_looks_like_symil() -> None:
    assert isinstance(extract_formal(fenced("json", json.dumps(SYMIL))), Problem)
    assert extract_formal(fenced("json", '{"name": "not symil"}')) is None
    assert extract_formal("no fences here: All men are mortal.") is None


def test_invalid_symil_raises_an_actionable_error() -> None:
    with pytest.raises(FormalInputError, match="not valid JSON"):
        extract_formal(fenced("symil", "{premises: oops"))
    with pytest.raises(FormalInputError, match=r"premises\.0"):
        extract_formal(fenced("symil", '{"premises": [{"op": "atom", "pred": "p", "args": []}]}'))


@pytest.mark.parametrize("tag", ["smt2", "smtlib", "lisp"])
def test_smtlib_sat_with_model(tag: str) -> None:
    source = (
        "(declare-const x Int)\n(declare-const y Int)\n(assert (= (+ x y) 10))\n(assert (= (- x y) 2))\n(check-sat)"
    )
    task = extract_formal(fenced(tag, source))
    assert isinstance(task, SmtLibTask)
    assert applicable_backends(task) == ["z3"]
    outcome = solve_task(task, "z3", 5000)
    assert (outcome.verdict, outcome.model) == ("SAT", {"x": 6, "y": 4})
    assert explain(task, outcome.verdict, outcome.model) == "SAT: x = 6, y = 4"


def test_smtlib_unsat_and_errors() -> None:
    unsat = SmtLibTask(source="(declare-const x Int)(assert (> x 3))(assert (< x 2))(check-sat)")
    assert solve_task(unsat, "z3", 5000).verdict == "UNSAT"
    broken = solve_task(SmtLibTask(source="(assert (> x 3))"), "z3", 5000)
    assert broken.verdict == "UNKNOWN"
    assert "unknown constant x" in broken.detail
    assert solve_task(unsat, "clingo", 5000).verdict == "UNKNOWN"


def test_lisp_block_without_check_sat_is_not_formal() -> None:
    assert extract_formal(fenced("lisp", "(defun f (x) x)")) is None


@pytest.mark.parametrize("tag", ["asp", "lp", "clingo"])
def test_asp_answer_sets(tag: str) -> None:
    task = extract_formal(fenced(tag, "{ a; b } = 1.\nc :- a."))
    assert isinstance(task, AspTask)
    assert applicable_backends(task) == ["clingo"]
    outcome = solve_task(task, "clingo", 5000)
    assert outcome.verdict == "SAT"
    assert outcome.model is not None
    assert sorted(outcome.model["answer_sets"]) == [["a", "c"], ["b"]]
    assert outcome.model["complete"] is True


def test_asp_unsat_and_syntax_error() -> None:
    assert solve_task(AspTask(source="a. :- a."), "clingo", 5000).verdict == "UNSAT"
    broken = solve_task(AspTask(source="a :- b(."), "clingo", 5000)
    assert broken.verdict == "UNKNOWN"
    assert "ASP error" in broken.detail
    assert explain(AspTask(source="a. :- a."), "UNSAT", None) == "UNSAT: the program has no answer set."


def test_timeouts_give_unknown_not_an_exception() -> None:
    # pigeonhole: 9 pigeons in 8 holes is hard for both solvers; a 1 ms budget cannot finish it
    pigeons, holes = 9, 8
    lines = [f"(declare-const p{i}_{h} Bool)" for i in range(pigeons) for h in range(holes)]
    lines += [f"(assert (or {' '.join(f'p{i}_{h}' for h in range(holes))}))" for i in range(pigeons)]
    lines += [
        f"(assert (not (and p{i}_{h} p{j}_{h})))"
        for h in range(holes)
        for i in range(pigeons)
        for j in range(i + 1, pigeons)
    ]
    z3_outcome = solve_task(SmtLibTask(source="\n".join(lines)), "z3", 1)
    assert z3_outcome.verdict == "UNKNOWN"
    asp = f"p(1..{pigeons}). h(1..{holes}). 1 {{ in(P,H) : h(H) }} 1 :- p(P). :- in(P,H), in(Q,H), P < Q."
    clingo_outcome = solve_task(AspTask(source=asp), "clingo", 1)
    assert clingo_outcome.verdict == "UNKNOWN"
    assert clingo_outcome.detail == "timed out"
