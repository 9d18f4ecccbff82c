"""The rule table for word forms: every inflected form meets its base form, and unrelated words stay apart."""

from __future__ import annotations

import pytest

from evolved_runtime.english.inflection import content_words, join_labels, join_names, stem, strip_titles
from evolved_runtime.english.modals import modals
from evolved_runtime.english.properties import base_form, third_person

SAME_STEM = [
    ("train", "trains", "trained", "training"),
    ("practice", "practices", "practiced", "practicing"),
    ("study", "studies", "studied", "studying"),
    ("stop", "stops", "stopped", "stopping"),
    ("watch", "watches", "watched", "watching"),
    ("activate", "activates", "activated", "activating"),
    ("run", "runs", "ran", "running"),
    ("have", "has", "had", "having"),
    ("go", "goes", "went", "gone"),
    ("open", "opens", "opened", "opening"),
    ("release", "releases", "released", "releasing"),
    ("need", "needs", "needed", "needing"),
]


@pytest.mark.parametrize("forms", SAME_STEM, ids=[f[0] for f in SAME_STEM])
def test_every_inflected_form_has_the_stem_of_its_base_form(forms: tuple[str, ...]) -> None:
    assert {stem(f) for f in forms} == {stem(forms[0])}


@pytest.mark.parametrize(
    ("first", "second"),
    [("glass", "glasses"), ("bus", "buses"), ("box", "boxes"), ("instrument", "instruments"), ("child", "children")],
)
def test_plural_nouns_meet_their_singular(first: str, second: str) -> None:
    assert stem(first) == stem(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [("red", "read"), ("bed", "be"), ("feed", "fe"), ("news", "new"), ("famous", "famou"), ("this", "thi")],
)
def test_unrelated_words_stay_apart(first: str, second: str) -> None:
    assert stem(first) != stem(second)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("practices his instrument", ["practices", "instrument"]),
        ("practice their instruments", ["practice", "instruments"]),
        ("reads the book", ["reads", "book"]),
    ],
)
def test_articles_and_possessives_are_not_part_of_a_predicate(phrase: str, expected: list[str]) -> None:
    assert content_words(phrase.split()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ms. Johnson is a nurse", "Johnson is a nurse"),
        ("Ask Dr Smith", "Ask Smith"),
        ("Tom will miss the train", "Tom will miss the train"),
        ("Prof. Lee teaches", "Lee teaches"),
    ],
)
def test_titles_are_dropped_from_names(text: str, expected: str) -> None:
    assert strip_titles(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We press button A", "We press button_A"),
        ("Is door C open", "Is door_C open"),
        ("All A are B", "All A are B"),
        ("x is on A", "x is on A"),
        ("P implies Q", "P implies Q"),
    ],
)
def test_a_noun_and_a_capital_letter_name_one_thing(text: str, expected: str) -> None:
    assert join_labels(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("John Smith is a teacher", "John_Smith is a teacher"),
        ("Does John Smith grade exams", "Does John_Smith grade exams"),
        ("All Greeks are mortal", "All Greeks are mortal"),
    ],
)
def test_two_capitalised_words_are_one_name(text: str, expected: str) -> None:
    assert join_names(text) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("ann is able to swim", "ann can swim"),
        ("ann is unable to swim", "ann can not swim"),
        ("ann is not able to swim", "ann can not swim"),
        ("employees are allowed to park", "employees may park"),
        ("guests are not allowed to smoke", "guests may not smoke"),
        ("minors are prohibited from buying alcohol", "minors may not buy alcohol"),
        ("members are required to pay dues", "members must pay dues"),
        ("ivan has to pay", "ivan must pay"),
        ("members do not have to pay a fee", "members need not pay a fee"),
        ("is ann allowed to park", "may ann park"),
        ("does ivan have to pay dues", "must ivan pay dues"),
        ("is frank forbidden to use a phone", "may frank not use a phone"),
    ],
)
def test_ability_permission_and_obligation_have_one_form_each(sentence: str, expected: str) -> None:
    assert modals(sentence) == expected


@pytest.mark.parametrize(
    ("verb", "base", "third"),
    [("trains", "train", "trains"), ("train", "train", "trains"), ("watches", "watch", "watches"),
     ("studies", "study", "studies"), ("has", "have", "has"), ("go", "go", "goes")],
)  # fmt: skip
def test_verbs_are_said_in_base_and_third_person_forms(verb: str, base: str, third: str) -> None:
    assert (base_form(verb), third_person(verb)) == (base, third)
