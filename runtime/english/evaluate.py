"""Score the no-LLM path (translate at levels 1-2, then the solver portfolio) on a question set.

``python -m evolved_runtime.english.evaluate [questions.yaml]`` prints the score per category.
A question counts as right when the verdict equals the expected one; an UNKNOWN answer to an
answerable question counts as wrong.
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


@dataclass(frozen=True)
class Result:
    question: Question
    verdict: Verdict
    level: int | None

    @property
    def correct(self) -> bool:
        return self.verdict == self.question.expected


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


def report(results: list[Result]) -> str:
    by_category: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_category[result.question.category].append(result)
    lines = [f"{'category':<16} {'right':>5} {'total':>5}"]
    for category, items in sorted(by_category.items()):
        lines.append(f"{category:<16} {sum(r.correct for r in items):>5} {len(items):>5}")
    right = sum(r.correct for r in results)
    lines.append(f"{'all':<16} {right:>5} {len(results):>5}  ({100 * right / max(len(results), 1):.1f}%)")
    for result in results:
        if not result.correct:
            q = result.question
            lines.append(f"  wrong: {q.id}: expected {q.expected}, got {result.verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("questions", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        print(f"no question file at {args.questions}", file=sys.stderr)
        return 2
    print(report(evaluate(load_questions(args.questions))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
