"""Every verdict quotes the premises it rests on, as written; NOT_VALID says the counter-model in words."""

from __future__ import annotations

import pytest

from evolved_runtime.english import parse
from evolved_runtime.solvers.backends import applicable_backends, solve_task
from evolved_runtime.symil import explain
from evolved_runtime.symil.models import Atom, Phrase, Problem, Wording
from evolved_runtime.symil.wording import counter_model_in_words, premises_used


def answers(text: str) -> set[str]:
    problem = parse(text, 2)
    assert problem is not None, f"not translated: {text}"
    texts = set()
    for backend in applicable_backends(problem):
        outcome = solve_task(problem, backend, 5000)
        texts.add(explain(problem, outcome.verdict, outcome.model))
    return texts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("All professional athletes train daily. Michael is a professional athlete. Does Michael train daily?",
         "VALID: the conclusion follows from the premises. Premises used: \u201cAll professional athletes train daily.\u201d "
         "\u201cMichael is a professional athlete.\u201d"),
        ("All cats are mammals. Tom is a mammal. Is Tom a cat?",
         "NOT_VALID: the conclusion does not follow from the premises. Counterexample: Tom is not a cat and is a mammal. "
         "Premises used: \u201cAll cats are mammals.\u201d \u201cTom is a mammal.\u201d"),
        ("If P then Q. Q. Therefore P.",
         "NOT_VALID: the conclusion does not follow from the premises. Counterexample: P is false and Q is true. "
         "Premises used: \u201cIf P then Q.\u201d \u201cQ.\u201d"),
        ("Ms. Johnson is a nurse. All nurses work night shifts. Does Ms. Johnson work night shifts?",
         "VALID: the conclusion follows from the premises. Premises used: \u201cMs Johnson is a nurse.\u201d "
         "\u201cAll nurses work night shifts.\u201d"),
        ("Only members may enter the lounge. Dana is not a member. May Dana enter the lounge?",
         "NOT_VALID: the conclusion does not follow from the premises. In fact the premises imply that it is false. "
         "Premises used: \u201cOnly members may enter the lounge.\u201d \u201cDana is not a member.\u201d"),
        ("Tom is a cat. Tom is not a cat. Is Tom a cat?",
         "VALID: the conclusion follows from the premises. (Vacuously: the premises contradict each other.) "
         "Premises used: \u201cTom is a cat.\u201d \u201cTom is not a cat.\u201d"),
    ],
    ids=["athletes", "affirming the consequent", "letters", "title", "only members", "contradiction"],
)  # fmt: skip
def test_answer_text_quotes_the_premises_as_written(text: str, expected: str) -> None:
    assert answers(text) == {expected}


def test_the_counter_model_names_an_unnamed_individual() -> None:
    (text,) = {t.split("(")[0] for t in answers("Some A are not B. Therefore some B are not A.")}
    assert text.endswith("Counterexample: some other individual ")


def test_a_counter_model_with_numbers_shows_them_without_helpers() -> None:
    (text,) = answers("x is even. Is x divisible by 4?")
    assert "Counterexample: x = " in text
    assert "k_" not in text


def test_the_counter_model_says_a_verb_in_words() -> None:
    (text,) = answers("All professional athletes train daily. Michael trains daily. Is Michael a professional athlete?")
    assert "Counterexample: Michael is not a professional athlete and trains daily." in text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Every student who studies passes. Anna studied. Did Anna pass?",
         "Counterexample: Anna is not a student, studies and does not pass."),
        ("All employees must wear badges unless they are visitors. John is an employee. Must John wear a badge?",
         "Counterexample: John is an employee, is a visitor and need not wear badges."),
    ],
    ids=["a class the text never gives the individual", "an exception the text never rules out"],
)  # fmt: skip
def test_the_counter_model_says_the_condition_of_a_rule_the_text_leaves_open(text: str, words: str) -> None:
    """What makes such a conclusion fail is a rule's condition that no sentence states of the
    individual: the counterexample says it, so a reader sees the missing premise."""
    (answer,) = answers(text)
    assert words in answer


def test_premises_used_skips_the_premises_a_translation_added() -> None:
    problem = Problem(
        premises=[Atom(pred="cat", args=["tom"]), Atom(pred="mammal", args=["tom"])],
        conclusion=Atom(pred="mammal", args=["tom"]),
        wording=Wording(premises=["Tom is a cat.", ""], conclusion="Is Tom a mammal?"),
    )
    assert premises_used(problem) == ["Tom is a cat"]
    assert premises_used(problem.model_copy(update={"wording": None})) == []


def test_a_predicate_without_a_phrase_is_said_by_its_name() -> None:
    problem = Problem(
        premises=[Atom(pred="big_cat", args=["tom"])],
        conclusion=Atom(pred="lion", args=["tom"]),
        wording=Wording(premises=["Tom is a big cat."], names={"tom": "Tom"},
                        phrases={"lion": Phrase(yes="is a lion", no="is not a lion")}),
    )  # fmt: skip
    assert counter_model_in_words(problem, {"big_cat(tom)": True}) == "Tom is big cat and is not a lion"


def test_wording_must_give_one_sentence_per_premise() -> None:
    with pytest.raises(ValueError, match="one sentence"):
        Problem(premises=[Atom(pred="cat", args=["tom"])], wording=Wording(premises=["a.", "b."]))
