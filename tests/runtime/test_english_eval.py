"""The evaluation set, end to end with no LLM: translate, then solve on every applicable back end.

Precision must be 100% (no wrong verdict, every must-decline question declined), coverage at least
70% per kind, and docs/symil.md must show the table the command prints.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evolved_runtime.english.evaluate import (
    DECLINE,
    DOC_BEGIN,
    DOC_END,
    Result,
    Score,
    doc_block,
    evaluate,
    load_questions,
    main,
    report,
)

QUESTIONS = Path(__file__).resolve().parent / "eval" / "questions.yaml"
DOC = Path(__file__).resolve().parents[2] / "docs" / "symil.md"


@pytest.fixture(scope="module")
def results() -> list[Result]:
    return evaluate(load_questions(QUESTIONS))


def test_evaluation_set_is_large_and_varied() -> None:
    questions = load_questions(QUESTIONS)
    kinds = Counter(q.category for q in questions)
    expected = Counter(q.expected for q in questions)
    assert len(questions) >= 300
    assert len({q.id for q in questions}) == len(questions)
    assert kinds[DECLINE] == expected["UNKNOWN"] >= 60
    for kind in ("syllogism", "individuals", "propositional", "permissions", "preconditions", "numbers"):
        assert kinds[kind] >= 20, kind
    assert min(expected[v] for v in ("VALID", "NOT_VALID", "SAT", "UNSAT")) >= 10


def test_no_answer_is_wrong(results: list[Result]) -> None:
    wrong = [
        f"{r.question.id}: expected {r.question.expected}, got {r.verdict}"
        for r in results
        if r.answered and not r.correct
    ]
    assert wrong == []


def test_every_must_decline_question_is_declined(results: list[Result]) -> None:
    assert [r.question.id for r in results if r.question.expected == "UNKNOWN" and r.answered] == []


def test_coverage_is_at_least_seventy_percent_per_kind(results: list[Result]) -> None:
    kinds = {r.question.category for r in results} - {DECLINE}
    low = {k: Score.of([r for r in results if r.question.category == k]).coverage for k in kinds}
    assert {k: c for k, c in low.items() if c < 0.7} == {}


def test_docs_show_the_table_the_command_prints(results: list[Result]) -> None:
    text = DOC.read_text()
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    assert text[start:end] == doc_block(report(results)), (
        "regenerate with: python -m evolved_runtime.english.evaluate --doc docs/symil.md"
    )


def test_evaluate_script_prints_coverage_and_precision_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(QUESTIONS)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["kind", "total", "answered", "right", "coverage", "precision"]
    assert "syllogism" in out
    assert "wrong answers: 0" in out


def test_evaluate_script_reports_a_missing_file(tmp_path: Path) -> None:
    assert main([str(tmp_path / "none.yaml")]) == 2
