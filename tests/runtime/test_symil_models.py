"""SymIL validation, schema documentation, answer text, portfolio combination."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from evolved_runtime.solvers.backends import Backend, SolveOutcome, solve_task
from evolved_runtime.solvers.portfolio import combine
from evolved_runtime.symil import FormalInputError, Problem, Verdict, explain, parse_symil
from evolved_runtime.symil.schema import DOC_BEGIN, DOC_END, doc_block

DOC = Path(__file__).resolve().parents[2] / "docs" / "symil.md"

SOCRATES = {
    "premises": [
        {"op": "forall", "vars": ["x"], "body": {"op": "implies", "left": {"op": "atom", "pred": "man", "args": ["x"]},
                                                 "right": {"op": "atom", "pred": "mortal", "args": ["x"]}}},
        {"op": "atom", "pred": "man", "args": ["socrates"]},
    ],
    "conclusion": {"op": "atom", "pred": "mortal", "args": ["socrates"]},
}  # fmt: skip


def test_symbols_are_inferred() -> None:
    problem = Problem.model_validate(SOCRATES)
    assert problem.symbols.constants == ["socrates"]
    assert problem.symbols.predicates == {"man": 1, "mortal": 1}
    assert problem.is_entailment


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"premises": []}, "at least one premise"),
        ({"premises": [{"op": "atom", "pred": "p", "args": ["a"]}, {"op": "atom", "pred": "p", "args": ["a", "b"]}]},
         "arity"),
        ({"premises": [{"op": "=", "left": {"op": "*", "args": ["x", "x"]}, "right": 4}]}, "nonlinear"),
        ({"premises": [{"op": "=", "left": "a", "right": 1}, {"op": "atom", "pred": "p", "args": ["a"]}]},
         "individual"),
        ({"premises": [{"op": "atom", "pred": "p", "args": ["a"]}], "domain": "closed"}, None),
        ({"premises": [{"op": "atom", "pred": "p", "args": ["a"]}], "extra": 1}, "Extra inputs"),
        ({"premises": [{"op": "atom", "pred": "p a", "args": ["a"]}]}, "pattern"),
        ({"premises": [{"op": "nand", "args": []}]}, "does not match any of the expected tags"),
    ],
)  # fmt: skip
def test_invalid_symil_is_rejected_with_a_clear_message(data: dict[str, object], message: str | None) -> None:
    if message is None:  # valid: a closed domain with its constant inferred
        parse_symil(data)
        return
    with pytest.raises(FormalInputError, match=message) as info:
        parse_symil(data)
    assert "docs/symil.md" in str(info.value)


def test_docs_embed_the_schema_generated_from_the_models() -> None:
    text = DOC.read_text()
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    assert text[start:end] == doc_block(), "regenerate with: python -m evolved_runtime.symil.schema --doc"


def test_tasks_and_outcomes_survive_pickling() -> None:
    problem = Problem.model_validate(SOCRATES)
    copy = pickle.loads(pickle.dumps(problem))
    assert copy == problem
    assert copy.symbols == problem.symbols
    outcome = solve_task(copy, "z3", 5000)
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_explain_starts_with_the_verdict() -> None:
    problem = Problem.model_validate(SOCRATES)
    equation = parse_symil({"premises": [{"op": "=", "left": {"op": "+", "args": [{"op": "*", "args": [3, "x"]}, 5]},
                                          "right": 20}]})  # fmt: skip
    inequality = parse_symil({"premises": [{"op": ">", "left": {"op": "-", "args": [{"op": "*", "args": [2, "x"]}, 4]},
                                            "right": 10}]})  # fmt: skip
    assert explain(problem, "VALID", None) == "VALID: the conclusion follows from the premises."
    assert explain(problem, "NOT_VALID", {"man(socrates)": True}).startswith("NOT_VALID: ")
    assert "man(socrates)" in explain(problem, "NOT_VALID", {"man(socrates)": True})
    assert explain(equation, "SAT", solve_task(equation, "z3", 5000).model) == "SAT: x = 5 (the only solution)"
    assert explain(inequality, "SAT", {"x": 8}) == "SAT: x = 8 (all solutions: x > 7)"
    assert explain(equation, "UNSAT", None).startswith("UNSAT: ")
    assert explain(equation, "UNKNOWN", None).startswith("UNKNOWN: ")


def _outcome(verdict: Verdict, backend: Backend = "z3") -> SolveOutcome:
    return SolveOutcome(verdict=verdict, backend=backend)


def test_portfolio_definite_verdict_wins_and_disagreement_is_unknown() -> None:
    assert combine([_outcome("UNKNOWN"), _outcome("VALID", "clingo")]).verdict == "VALID"
    agreed = combine([_outcome("VALID"), _outcome("VALID", "clingo")])
    assert (agreed.verdict, agreed.agree) == ("VALID", True)
    split = combine([_outcome("VALID"), _outcome("NOT_VALID", "clingo")])
    assert (split.verdict, split.agree) == ("UNKNOWN", False)
    assert combine([_outcome("UNKNOWN")]).verdict == "UNKNOWN"
    assert combine([_outcome("SAT")]).agree is None
