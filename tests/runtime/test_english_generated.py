"""Generated questions whose verdict is computed independently: no answer may be wrong.

Every categorical syllogism (256 moods and figures), seeded random propositional arguments over
P, Q, R (truth tables) and numeric facts (Python arithmetic) are put in controlled English, run like
the evaluation set (levels 1-2, every solver), and compared with the verdict computed here.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest

from evolved_runtime.english.evaluate import answer

Valuation = dict[str, bool]

NOUNS = {"S": "artists", "M": "bakers", "P": "cyclists"}
FORMS = {"A": "All {} are {}", "E": "No {} are {}", "I": "Some {} are {}", "O": "Some {} are not {}"}
FIGURES = [(("M", "P"), ("S", "M")), (("P", "M"), ("S", "M")), (("M", "P"), ("M", "S")), (("P", "M"), ("M", "S"))]
REGIONS = [frozenset(c) for n in range(4) for c in itertools.combinations("SMP", n)]


def _holds(form: str, subject: str, predicate: str, inhabited: tuple[frozenset[str], ...]) -> bool:
    members = [region for region in inhabited if subject in region]
    return {
        "A": all(predicate in r for r in members),
        "E": not any(predicate in r for r in members),
        "I": any(predicate in r for r in members),
        "O": any(predicate not in r for r in members),
    }[form]


def _syllogisms() -> list[tuple[str, str]]:
    models = [m for n in range(len(REGIONS) + 1) for m in itertools.combinations(REGIONS, n)]
    cases = []
    for (major, minor, conclusion), ((a1, b1), (a2, b2)) in itertools.product(
        itertools.product(FORMS, repeat=3), FIGURES
    ):
        premises = [(major, a1, b1), (minor, a2, b2)]
        valid = all(_holds(conclusion, "S", "P", m) for m in models if all(_holds(f, a, b, m) for f, a, b in premises))
        said = [FORMS[f].format(NOUNS[a], NOUNS[b]) for f, a, b in premises]
        claim = FORMS[conclusion].format(NOUNS["S"], NOUNS["P"]).lower()
        cases.append((f"{said[0]}. {said[1]}. Therefore {claim}.", "VALID" if valid else "NOT_VALID"))
    return cases


CONNECTIVES: list[tuple[str, Callable[[Valuation, str, str], bool]]] = [
    ("If {a} then {b}", lambda v, a, b: not v[a] or v[b]),
    ("{a} or {b}", lambda v, a, b: v[a] or v[b]),
    ("{a} and {b}", lambda v, a, b: v[a] and v[b]),
    ("Not {a}", lambda v, a, b: not v[a]),
    ("{a} is true", lambda v, a, b: v[a]),
    ("{a} only if {b}", lambda v, a, b: not v[a] or v[b]),
    ("{a} unless {b}", lambda v, a, b: v[a] or v[b]),
    ("{a} if and only if {b}", lambda v, a, b: v[a] == v[b]),
    ("Neither {a} nor {b}", lambda v, a, b: not v[a] and not v[b]),
    ("If {a} then not {b}", lambda v, a, b: not v[a] or not v[b]),
    ("{b} if {a}", lambda v, a, b: not v[a] or v[b]),
]
CLAIMS: list[tuple[str, Callable[[Valuation, str], bool]]] = [
    ("Therefore {a}.", lambda v, a: v[a]),
    ("Therefore not {a}.", lambda v, a: not v[a]),
    ("Is {a} true?", lambda v, a: v[a]),
]


def _arguments(count: int) -> list[tuple[str, str]]:
    rng = random.Random(3)
    valuations = [dict(zip("PQR", bits, strict=True)) for bits in itertools.product([False, True], repeat=3)]
    cases = []
    for _ in range(count):
        premises = [(rng.choice(CONNECTIVES), *rng.sample("PQR", 2)) for _ in range(rng.randint(1, 3))]
        (claim, holds), letter = rng.choice(CLAIMS), rng.choice("PQR")
        models = [v for v in valuations if all(f(v, a, b) for (_, f), a, b in premises)]
        text = " ".join(t.format(a=a, b=b) + "." for (t, _), a, b in premises) + " " + claim.format(a=letter)
        cases.append((text, "VALID" if all(holds(v, letter) for v in models) else "NOT_VALID"))
    return cases


QUESTIONS: list[tuple[str, Callable[[int, int, int], bool]]] = [
    ("Is x + y greater than {c}?", lambda x, y, c: x + y > c),
    ("Is x greater than y?", lambda x, y, c: x > y),
    ("Is y at least {c}?", lambda x, y, c: y >= c),
    ("Is x minus y less than {c}?", lambda x, y, c: x - y < c),
    ("Is twice x {c}?", lambda x, y, c: 2 * x == c),
    ("Is the sum of x and y {c}?", lambda x, y, c: x + y == c),
    ("Is x not equal to {c}?", lambda x, y, c: x != c),
    ("Is x even?", lambda x, y, c: x % 2 == 0),
    ("Is x divisible by 3?", lambda x, y, c: x % 3 == 0),
    ("Is y 2 more than x?", lambda x, y, c: y == x + 2),
]


def _numbers(count: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    cases = []
    for _ in range(count):
        (question, holds), x, d, c = rng.choice(QUESTIONS), rng.randint(0, 12), rng.randint(1, 5), rng.randint(0, 20)
        facts, y = rng.choice([("x is {x}. y is {y}.", rng.randint(0, 12)), ("x is {x}. y is {d} more than x.", x + d)])
        text = facts.format(x=x, y=y, d=d) + " " + question.format(c=c)
        cases.append((text, "VALID" if holds(x, y, c) else "NOT_VALID"))
    return cases


@pytest.mark.parametrize(
    ("cases", "least_coverage"),
    [(_syllogisms(), 0.8), (_arguments(150), 0.5), (_numbers(150), 0.5)],
    ids=["every categorical syllogism", "random propositional arguments", "random numeric facts"],
)
def test_generated_questions_get_no_wrong_verdict(cases: list[tuple[str, str]], least_coverage: float) -> None:
    verdicts = [(text, expected, answer(text)[0]) for text, expected in cases]
    wrong = [
        f"{text}: expected {expected}, got {got}"
        for text, expected, got in verdicts
        if got not in (expected, "UNKNOWN")
    ]
    assert wrong == []
    assert sum(got != "UNKNOWN" for _, _, got in verdicts) >= least_coverage * len(cases)
