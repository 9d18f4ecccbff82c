"""Soundness of the default translation: a text it cannot read whole gets no verdict (docs/symil.md).

Each sentence below once got, or could get, a confident verdict from a reading that lost meaning;
now the translation refuses it at levels 1 and 2, so the pipeline escalates or declines.
"""

from __future__ import annotations

import pytest

from evolved_runtime.english import parse, translate
from evolved_runtime.english.soundness import dangling_facts, isolated, reading_dependent, unconnected
from evolved_runtime.solvers.backends import applicable_backends, solve_task
from evolved_runtime.symil.models import Atom, ForAll, Implies, Problem


def verdicts(text: str) -> set[str]:
    problem = parse(text, 2)
    assert problem is not None, f"not translated: {text}"
    return {solve_task(problem, b, 5000).verdict for b in applicable_backends(problem)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("All professional athletes train daily. Michael is a professional athlete. Therefore, Michael trains daily.",
         "VALID"),
        ("All musicians practice their instruments. David is a musician. Therefore, David practices his instrument.",
         "VALID"),
        ("Pressing button A activates system B. Activating system B opens door C. We press button A. Is door C open?",
         "VALID"),
    ],
    ids=["athletes", "musicians", "button chain"],
)  # fmt: skip
def test_the_questions_of_issue_23_get_the_right_verdict(text: str, expected: str) -> None:
    assert verdicts(text) == {expected}


REFUSED = [
    # the conclusion mentions what no premise does
    "All professional athletes train daily. Michael is a professional athlete. Does Michael exercise?",
    "All men are mortal. Is Plato mortal?",
    "All cats are mammals. Tom is a cat. Is Tom an animal?",
    "Tom is a bachelor. Is Tom married?",
    "x is 5. Is y greater than 3?",
    # a premise is about nothing else in the text
    "Every employee who works overtime gets a bonus. Maria is an employee. Overtime people work. Does Maria get a bonus?",
    "All cats are mammals. Tom is a cat. Blue whales sing loudly. Is Tom a mammal?",
    # a sentence would be read only in part
    "Most students like pizza. Tom is a student. Does Tom like pizza?",
    "Tom usually walks to work. Tom is a nurse. Does Tom walk to work?",
    "John never lies. John is a man. Does John lie?",
    "Cats rarely bark. Tom is a cat. Does Tom bark?",
    "Employees should arrive early. Ann is an employee. Does Ann arrive early?",
    "Tom left without paying. Tom is a man. Did Tom pay?",
    "Every student respects the teacher. Ann is a student. The teacher likes her. Does Ann respect the teacher?",
    "John is in Paris. Paris is in France. Is John in France?",
    "If it rains, she stays home. It rains. Does she stay home?",
    # more than one reading
    "All cats are mammals. Are all cats dogs mammals?",
    # a fact that only world knowledge relates to the rest
    "Every bird can fly. Tweety is a penguin. Can Tweety fly?",
    "All animals need water. Rex is a dog. Does Rex need water?",
    "Tom has two cars. Everyone who has a car pays tax. Does Tom pay tax?",
    # the verdict would depend on a reading the text does not fix
    "All birds cannot fly. Tweety is a bird. Can Tweety fly?",
    "All that glitters is not gold. The ring glitters. Is the ring gold?",
    "Either P or Q. P. Is Q false?",
    "Tom is at home or at work. Tom is at home. Is Tom not at work?",
    "All employees except interns may park. Bob is an intern. Is Bob forbidden to park?",
    "All unicorns are horned. Therefore some unicorns are horned.",
    "Guests may use the pool unless it is closed. Ann is a guest. The pool is not closed. May Ann use the pool?",
]


@pytest.mark.parametrize("text", REFUSED)
def test_a_text_that_cannot_be_read_whole_is_refused_at_both_levels(text: str) -> None:
    assert parse(text, 1) is None
    assert parse(text, 2) is None


def test_maria_works_overtime_is_about_maria() -> None:
    text = ("Every employee who works overtime gets a bonus. Maria is an employee. Maria works overtime. "
            "Does Maria get a bonus?")  # fmt: skip
    assert verdicts(text) == {"VALID"}


def test_unconnected_names_the_missing_symbols() -> None:
    rule = ForAll(vars=["x"], body=Implies(left=Atom(pred="man", args=["x"]), right=Atom(pred="mortal", args=["x"])))
    problem = Problem(premises=[rule], conclusion=Atom(pred="mortal", args=["plato"]))
    assert unconnected(problem) == ["plato"]
    assert unconnected(problem.model_copy(update={"conclusion": None})) == []


def test_isolated_finds_the_premise_that_shares_nothing() -> None:
    premises = [Atom(pred="cat", args=["tom"]), Atom(pred="sing", args=["whale"]), Atom(pred="mammal", args=["tom"])]
    problem = Problem(premises=premises, conclusion=Atom(pred="mammal", args=["tom"]))
    assert isolated(problem) == [1]
    assert isolated(problem, ignore={"tom"}) == [0, 1]


def test_dangling_facts_names_the_predicate_nothing_else_uses() -> None:
    rule = ForAll(vars=["x"], body=Implies(left=Atom(pred="bird", args=["x"]), right=Atom(pred="fly", args=["x"])))
    problem = Problem(
        premises=[rule, Atom(pred="penguin", args=["tweety"])], conclusion=Atom(pred="fly", args=["tweety"])
    )
    assert dangling_facts(problem) == ["penguin"]


def test_reading_dependent_needs_a_conclusion() -> None:
    problem = Problem(premises=[Atom(pred="cat", args=["tom"])])
    assert reading_dependent(problem, {"cat"}) is None


class ReplyingLLM:
    """An LLM that answers every translation request with the same SymIL."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def complete(self, prompt: str, system: str | None = None) -> str:
        return self.reply


MORTAL = '{"op": "forall", "vars": ["x"], "body": {"op": "implies", "left": {"op": "atom", "pred": "man", "args": ["x"]}, "right": {"op": "atom", "pred": "mortal", "args": ["x"]}}}'


def test_an_llm_translation_whose_conclusion_connects_is_kept() -> None:
    reply = f'{{"premises": [{MORTAL}, {{"op": "atom", "pred": "man", "args": ["socrates"]}}], "conclusion": {{"op": "atom", "pred": "mortal", "args": ["socrates"]}}}}'
    problem = translate("Is Socrates mortal, given that all men are?", 3, {}, ReplyingLLM(reply))
    assert problem is not None
    assert problem.conclusion == Atom(pred="mortal", args=["socrates"])


def test_an_llm_translation_whose_conclusion_does_not_connect_is_refused() -> None:
    reply = f'{{"premises": [{MORTAL}], "conclusion": {{"op": "atom", "pred": "mortal", "args": ["plato"]}}}}'
    assert translate("All men are mortal. Is Plato mortal?", 3, {}, ReplyingLLM(reply)) is None
