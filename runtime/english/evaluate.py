"""Score the no-LLM path (translate at levels 1-2, then the solver portfolio) on a question set.

``python -m evolved_runtime.english.evaluate [questions.yaml]`` prints, per kind (the ``category``
field), how many questions were answered (coverage) and how many answers were right (precision).
A declined question (UNKNOWN) is not answered: it lowers coverage, never precision. Questions whose
expected verdict is UNKNOWN must be declined; answering one is a wrong answer. ``held_out: true``
marks questions written after the grammar was frozen (never used to change it), reported apart.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from evolved_runtime.english import translate
from evolved_runtime.solvers.backends import applicable_backends, solve_task
from evolved_runtime.solvers.portfolio import combine
from evolved_runtime.symil.models import Verdict

DEFAULT_QUESTIONS = Path("tests/runtime/eval/questions.yaml")


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    text: str
    expected: Verdict
    held_out: bool = False


@dataclass(frozen=True)
class Result:
    question: Question
    verdict: Verdict
    level: int | None

    @property
    def correct(self) -> bool:
        return self.verdict == self.question.expected

    @property
    def answered(self) -> bool:
        return self.verdict != "UNKNOWN"


@dataclass(frozen=True)
class Score:
    """Coverage and precision of a group of results."""

    total: int
    answered: int
    right: int

    @staticmethod
    def of(results: list[Result]) -> Score:
        answered = [r for r in results if r.answered]
        return Score(len(results), len(answered), sum(r.correct for r in answered))

    @property
    def coverage(self) -> float:
        return self.answered / self.total if self.total else 0.0

    @property
    def precision(self) -> float:
        return self.right / self.answered if self.answered else 1.0

    def row(self, name: str) -> str:
        return (
            f"{name:<22} {self.total:>5} {self.answered:>8} {self.right:>5} "
            f"{100 * self.coverage:>8.1f}% {100 * self.precision:>9.1f}%"
        )


def load_questions(path: Path) -> list[Question]:
    return [Question(**item) for item in yaml.safe_load(path.read_text())]


def answer(text: str, timeout_ms: int = 5000) -> tuple[Verdict, int | None]:
    """Verdict without an LLM and the SymIL level that translated the text (None: untranslated)."""
    for level in (1, 2):
        problem = translate(text, level, {}, None)
        if problem is None:
            continue
        outcomes = [solve_task(problem, backend, timeout_ms) for backend in applicable_backends(problem)]
        return combine(outcomes).verdict, level
    return "UNKNOWN", None


def evaluate(questions: list[Question]) -> list[Result]:
    return [Result(q, *answer(q.text)) for q in questions]


DECLINE = "decline"
"""The kind of the questions that must be declined (expected UNKNOWN)."""


def report(results: list[Result]) -> str:
    """The table of docs/symil.md: per kind, then all answerable questions, the declines, the held-out ones."""
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_kind[result.question.category].append(result)
    lines = [f"{'kind':<22} {'total':>5} {'answered':>8} {'right':>5} {'coverage':>9} {'precision':>10}"]
    for kind, items in sorted(by_kind.items()):
        if kind != DECLINE:
            lines.append(Score.of(items).row(kind))
    answerable = [r for r in results if r.question.expected != "UNKNOWN"]
    lines.append(Score.of(answerable).row("all answerable"))
    declines = [r for r in results if r.question.expected == "UNKNOWN"]
    declined = sum(not r.answered for r in declines)
    lines.append(f"{'must decline':<22} {len(declines):>5} {'declined':>8} {declined:>5}")
    held_out = [r for r in answerable if r.question.held_out]
    if held_out:
        lines.append(Score.of(held_out).row("held-out (answerable)"))
    wrong_answers = sum(r.answered and not r.correct for r in results)
    lines.append(f"questions: {len(results)}; wrong answers: {wrong_answers}")
    for result in results:
        if result.answered and not result.correct:
            q = result.question
            lines.append(f"  WRONG: {q.id}: expected {q.expected}, got {result.verdict}")
    return "\n".join(lines)


DOC_BEGIN = "<!-- english-eval:begin -->"
DOC_END = "<!-- english-eval:end -->"


def doc_block(table: str) -> str:
    """The report as docs/symil.md embeds it, between the markers."""
    return f"{DOC_BEGIN}\n```text\n{table}\n```\n{DOC_END}"


def write_doc(path: Path, table: str) -> None:
    text = path.read_text()
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    path.write_text(text[:start] + doc_block(table) + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("questions", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--doc", type=Path, metavar="MD", help="also write the table into this file (docs/symil.md)")
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        print(f"no question file at {args.questions}", file=sys.stderr)
        return 2
    table = report(evaluate(load_questions(args.questions)))
    print(table)
    if args.doc is not None:
        write_doc(args.doc, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
