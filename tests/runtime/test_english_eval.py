"""The evaluation set, end to end with no LLM: translate, then solve on every applicable back end."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from evolved_runtime.english.evaluate import evaluate, load_questions, main

QUESTIONS = Path(__file__).resolve().parent / "eval" / "questions.yaml"


def test_evaluation_set_is_varied_enough() -> None:
    questions = load_questions(QUESTIONS)
    expected = Counter(q.expected for q in questions)
    assert len(questions) >= 80
    assert len({q.id for q in questions}) == len(questions)
    assert min(expected[v] for v in ("VALID", "NOT_VALID", "SAT", "UNSAT", "UNKNOWN")) >= 4


def test_score_is_at_least_ninety_percent() -> None:
    results = evaluate(load_questions(QUESTIONS))
    wrong = [f"{r.question.id}: expected {r.question.expected}, got {r.verdict}" for r in results if not r.correct]
    assert len(results) - len(wrong) >= 0.9 * len(results), "\n".join(wrong)
    confident_on_unanswerable = [
        r.question.id for r in results if r.question.expected == "UNKNOWN" and r.verdict != "UNKNOWN"
    ]
    assert confident_on_unanswerable == []


def test_evaluate_script_prints_per_category(capsys: object) -> None:
    assert main([str(QUESTIONS)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "syllogism" in out
    assert "all " in out
