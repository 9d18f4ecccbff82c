"""The rule table for word forms: every inflected form meets its base form, and unrelated words stay apart."""

from __future__ import annotations

from collections.abc import Callable

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


REWRITES: list[tuple[Callable[[str], str], str, str]] = [
    # titles are dropped from names
    (strip_titles, "Ms. Johnson is a nurse", "Johnson is a nurse"),
    (strip_titles, "Ask Dr Smith", "Ask Smith"),
    (strip_titles, "Tom will miss the train", "Tom will miss the train"),
    (strip_titles, "Prof. Lee teaches", "Lee teaches"),
    # a noun and a capital letter name one thing
    (join_labels, "We press button A", "We press button_A"),
    (join_labels, "Is door C open", "Is door_C open"),
    (join_labels, "All A are B", "All A are B"),
    (join_labels, "x is on A", "x is on A"),
    (join_labels, "P implies Q", "P implies Q"),
    # two capitalised words are one name
    (join_names, "John Smith is a teacher", "John_Smith is a teacher"),
    (join_names, "Does John Smith grade exams", "Does John_Smith grade exams"),
    (join_names, "All Greeks are mortal", "All Greeks are mortal"),
    # ability, permission and obligation have one form each
    (modals, "ann is able to swim", "ann can swim"),
    (modals, "ann is unable to swim", "ann can not swim"),
    (modals, "ann is not able to swim", "ann can not swim"),
    (modals, "employees are allowed to park", "employees may park"),
    (modals, "guests are not allowed to smoke", "guests may not smoke"),
    (modals, "minors are prohibited from buying alcohol", "minors may not buy alcohol"),
    (modals, "members are required to pay dues", "members must pay dues"),
    (modals, "ivan has to pay", "ivan must pay"),
    (modals, "members do not have to pay a fee", "members need not pay a fee"),
    (modals, "is ann allowed to park", "may ann park"),
    (modals, "does ivan have to pay dues", "must ivan pay dues"),
    (modals, "is frank forbidden to use a phone", "may frank not use a phone"),
]


@pytest.mark.parametrize(("rule", "text", "expected"), REWRITES, ids=[r[1] for r in REWRITES])
def test_sentences_are_rewritten_to_one_form(rule: Callable[[str], str], text: str, expected: str) -> None:
    assert rule(text) == expected


@pytest.mark.parametrize(
    ("verb", "base", "third"),
    [("trains", "train", "trains"), ("train", "train", "trains"), ("watches", "watch", "watches"),
     ("studies", "study", "studies"), ("has", "have", "has"), ("go", "go", "goes")],
)  # fmt: skip
def test_verbs_are_said_in_base_and_third_person_forms(verb: str, base: str, third: str) -> None:
    assert (base_form(verb), third_person(verb)) == (base, third)
