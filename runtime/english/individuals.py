"""Sentences about named things, events and propositions: "Socrates is a man", "Michael trains daily",
"it rains", "we press button A", "P is true"."""

from __future__ import annotations

import re

from evolved_runtime.english.agreement import split_subject
from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.inflection import stem
from evolved_runtime.english.properties import NAME, Context, Pred, individual, predicate, verb_phrase, words_of
from evolved_runtime.english.words import is_plural
from evolved_runtime.symil.models import And, Formula, Not

WORLD = "world_"
"""The one individual that propositions ("P", "it rains") are about."""

_PEOPLE = r"(?:we|you|i|they|someone|somebody|one)"
_WEATHER_WORDS = (
    "rain snow hail freez storm thunder drizzl pour sunny cloudy windy foggy stormy cold hot warm dark humid icy"
)
_WEATHER = frozenset(_WEATHER_WORDS.split())
"""What "it" may be about on its own ("it rains", "it is cold"); any other "it" needs a referent."""


def proposition(letter: str, context: Context) -> Pred:
    """A propositional letter ``p``: the property of the world that P holds."""
    upper = letter.upper()
    context.spelling.setdefault(WORLD, "")
    return context.atom(f"prop_{letter}", f"{upper} is true", f"{upper} is false")


def event(verb: str, thing: str, context: Context) -> Formula:
    """``press button A`` / ``pressing button A`` / ``opens door C``: what happens to a thing."""
    name = individual(thing, context)
    key = stem(verb)
    if not re.fullmatch(NAME, key) or len(key) < 2:
        raise ParseError(f"not a verb: {verb!r}")
    done = key + ("d" if key.endswith("e") else "ed")
    return context.atom(key, f"is {done}", f"is not {done}")(name)


def statement(text: str, context: Context) -> Formula | None:
    """One sentence about individuals, or None."""
    match = re.fullmatch(r"([a-z])(?: is true| holds| is the case)?", text)
    if match:
        return proposition(match.group(1), context)(WORLD)
    match = re.fullmatch(r"([a-z]) is (?:false|not true|not the case)", text)
    if match:
        return Not(arg=proposition(match.group(1), context)(WORLD))
    match = re.fullmatch(rf"{_PEOPLE} (\w+) ((?:the )?{NAME})", text)
    if match:
        return event(match.group(1), match.group(2), context)
    match = re.fullmatch(rf"{_PEOPLE} (?:do|did) not (\w+) ((?:the )?{NAME})", text)
    if match:
        return Not(arg=event(match.group(1), match.group(2), context))
    match = re.fullmatch(r"it (is |was |does |did )?(not )?(\w+)", text)
    if match and (stem(match.group(3)) in _WEATHER or match.group(3) in _WEATHER):
        context.spelling.setdefault(WORLD, "it")
        said = match.group(3)
        prop = predicate(said, context) if match.group(1) in ("is ", "was ") else verb_phrase(said, context)
        return Not(arg=prop(WORLD)) if match.group(2) else prop(WORLD)
    match = re.fullmatch(r"([a-z]) and ([a-z]) are (?:both )?(true|false)", text)
    if match:
        letters: list[Formula] = [proposition(g, context)(WORLD) for g in match.group(1, 2)]
        return And(args=[Not(arg=f) for f in letters] if match.group(3) == "false" else letters)
    match = re.fullmatch(rf"(the {NAME}) are (.+)", text)  # "the streets are wet": named things
    if match:
        return predicate(match.group(2), context)(individual(match.group(1), context))
    match = re.fullmatch(rf"({NAME}) and ({NAME}) are (.+)", text)
    if match:
        prop = predicate(match.group(3), context)
        return And(args=[prop(individual(match.group(g), context)) for g in (1, 2)])
    match = re.fullmatch(rf"((?:the )?{NAME}) (?:is|was) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return predicate(match.group(2), context)(name)
    match = re.fullmatch(rf"((?:the )?{NAME}) (.+)", text)
    if match and match.group(1) in ("a", "an") and not re.match(r"(?:can|does|did|has|must|may) ", match.group(2)):
        return None  # "a father": an article, not the thing called A ("A can be moved")
    known = match is not None and (match.group(1) in context.names or match.group(1).startswith("the "))
    if match and (known or not (is_plural(match.group(1)) or split_subject(words_of(text), plural=True))):
        name = individual(match.group(1), context)
        return verb_phrase(match.group(2), context)(name)
    return None


def question(text: str, context: Context) -> Formula | None:
    """``is tom a cat``, ``can tweety fly``, ``does michael train daily``, ``is door_c open``, ``is p true``."""
    match = re.fullmatch(r"(?:is|does) ([a-z]) (?:true|hold|follow|the case)", text)
    if match:
        return proposition(match.group(1), context)(WORLD)
    match = re.fullmatch(r"is ([a-z]) false", text)
    if match:
        return Not(arg=proposition(match.group(1), context)(WORLD))
    match = re.fullmatch(rf"are (the {NAME}) (.+)", text)
    if match:
        return predicate(match.group(2), context)(individual(match.group(1), context))
    match = re.fullmatch(r"(is|was|does|did) it (\w+)", text)
    if match:
        return statement(f"it {'is ' if match.group(1) in ('is', 'was') else ''}{match.group(2)}", context)
    match = re.fullmatch(rf"(can|may|must|need) ((?:the )?{NAME}) (.+)", text)
    if match:
        name = individual(match.group(2), context)
        return verb_phrase(f"{match.group(1)} {match.group(3)}", context)(name)
    match = re.fullmatch(rf"(?:does|did) ((?:the )?{NAME}) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return verb_phrase(match.group(2), context)(name)
    match = re.fullmatch(rf"(?:is|was) ((?:the )?{NAME}) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return predicate(match.group(2), context)(name)
    return None
