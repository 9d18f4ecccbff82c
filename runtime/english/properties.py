"""Properties of individuals in controlled English: noun phrases, adjectives, verb phrases, names.

Each builder returns a ``Pred`` (individual -> formula) or raises ParseError; nothing is guessed.
Predicate names come from word keys (``inflection.stem``) so inflected forms agree, and the
``Context`` records how each predicate and name was said, for the answer text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.inflection import ARTICLES, POSSESSIVES, content_words, stem
from evolved_runtime.english.words import RESERVED, UNMODELLED, is_plural, singular, symbol
from evolved_runtime.symil.models import And, Atom, Formula, Not, Or, Phrase

Pred = Callable[[str], Formula]
"""A property: given an individual (constant or bound variable), the formula that it has it."""

NAME = r"[a-z][a-z0-9_]*"
_INNER = frozenset({"of", "to", "for", "with", "at", "as", "in", "on", "from"})
"""Prepositions a verb phrase may hold after its verb ("studies for the exam", "hunts at night")."""
_PLACES = r"(?:at|in|inside|outside|near|from|on)"


class Context:
    """What the sentences of one text share: the names of individuals, and how things were said."""

    def __init__(self, names: set[str] | None = None, nouns: set[str] | None = None) -> None:
        self.names: set[str] = names or set()
        self.nouns: set[str] = nouns or set()
        """Singular forms of the words used after an article or a quantifier: evidence of a noun."""
        self.phrases: dict[str, Phrase] = {}
        self.spelling: dict[str, str] = {}
        self.exceptions: set[str] = set()
        """Predicates concluded by a rule with an exception ("... except interns", "... unless they ...")."""

    def atom(self, pred: str, yes: str, no: str) -> Pred:
        self.phrases.setdefault(pred, Phrase(yes=yes, no=no))
        return lambda s: Atom(pred=pred, args=[s])


def words_of(text: str) -> list[str]:
    return [w for w in text.split() if w]


def _check_modelled(words: list[str], text: str) -> None:
    if any(w in UNMODELLED or re.search(r"\d", w) for w in words):
        raise ParseError(f"a word whose meaning the grammar does not model: {text!r}")


def noun(text: str) -> str:
    """Predicate name of a noun phrase: ``black cats`` -> ``black_cat``."""
    words = words_of(re.sub(r"^(?:a|an|the)\s+", "", text.strip()))
    _check_modelled(words, text)
    words = [w for i, w in enumerate(words) if not (i > 0 and w in ARTICLES and words[i - 1] in _INNER)]
    if not words or any(
        w in RESERVED and len(words) + len(w) > 2 and (w not in _INNER or i == 0) for i, w in enumerate(words)
    ):
        raise ParseError(f"not a noun phrase: {text!r}")  # a lone letter ("some a are b") is a class
    if any(w in POSSESSIVES for w in words):
        raise ParseError(f"not a noun phrase: {text!r}")
    if len(words) > 1 and singular(words[-1]) in ("thing", "person", "one", "people", "individual"):
        words = words[:-1]  # "black things" is the property "black"
    name = symbol("_".join(_noun_word(w) for w in words))
    if name is None:
        raise ParseError(f"not a noun phrase: {text!r}")
    return name


def _noun_word(word: str) -> str:
    """``cats`` -> ``cat``; a participle ("educated people", "retired teachers") as ``predicate`` keys it."""
    if re.fullmatch(r"[a-z]+(?:ed|ing)", word) and len(word) > 4 and word not in RESERVED:
        return stem(word)
    return singular(word)


def kind_atom(text: str, context: Context) -> Pred:
    """The class named by a noun phrase (``cats``, ``a professional athlete``)."""
    name = noun(text)
    said = name.replace("_", " ") if len(name) > 1 else name.upper()
    article = "an" if said[:1] in "aeiouAEFHILMNORSX" else "a"
    return context.atom(name, f"is {article} {said}", f"is not {article} {said}")


def individual(text: str, context: Context) -> str:
    """Constant name of ``Socrates`` / ``A`` / ``the table`` / ``door_c``."""
    text = re.sub(r"^(?:the|top of)\s+", "", text.strip())
    words = words_of(text)
    if len(words) != 1 or not re.fullmatch(NAME, words[0]):
        raise ParseError(f"not a name: {text!r}")
    if (words[0] in RESERVED and len(words[0]) > 1) or words[0] in UNMODELLED:
        raise ParseError(f"not a name: {text!r}")
    name = symbol(words[0])
    assert name is not None
    context.spelling.setdefault(name, words[0])
    return name


def predicate(text: str, context: Context) -> Pred:
    """Property after ``is``/``are``: ``a man``, ``mortal``, ``not a dog``, ``on B``, ``can be moved``,
    ``black and white``, ``either red or blue``, ``at home``."""
    text = text.strip()
    if text.startswith("not "):
        inner = predicate(text[4:], context)
        return lambda s: Not(arg=inner(s))
    match = re.fullmatch(r"neither (.+?) nor (.+)", text)
    if match:
        left, right = predicate(match.group(1), context), predicate(match.group(2), context)
        return lambda s: And(args=[Not(arg=left(s)), Not(arg=right(s))])
    text = re.sub(r"^(?:either|both) ", "", text)
    for joiner, make in ((" or ", Or), (" and ", And)):
        if joiner in text:
            parts = [predicate(p, context) for p in text.split(joiner)]
            return lambda s, parts=parts, make=make: make(args=[p(s) for p in parts])  # type: ignore[misc]
    match = re.fullmatch(r"on (?:top of )?((?:the )?(?:[a-z]|\w+_\w+|table|floor|ground|shelf))", text)
    if match:
        other = individual(match.group(1), context)
        context.phrases.setdefault("on", Phrase(yes="is on", no="is not on"))
        return lambda s: Atom(pred="on", args=[s, other])
    match = re.fullmatch(r"can be (\w+)", text)
    if match:
        name = f"can_be_{stem(match.group(1))}"
        said = f"can be {match.group(1)}"
        return context.atom(name, said, f"cannot be {match.group(1)}")
    match = re.fullmatch(rf"({_PLACES}) (?:the |a |an )?(\w+)", text)
    if match:
        place, where = match.groups()
        if where in context.names:
            raise ParseError(f"being {place} a named thing is a relation the grammar does not model: {text!r}")
        _check_modelled([where], text)
        return context.atom(f"{place}_{stem(where)}", f"is {text}", f"is not {text}")
    if text.startswith(("a ", "an ")):
        return kind_atom(text, context)
    if re.fullmatch(r"[a-z]+(?:ed|ing)", text) and text not in RESERVED:
        # a participle names the state an action leaves: "pressed", "opened", "raining"
        _check_modelled([text], text)
        return context.atom(stem(text), f"is {text}", f"is not {text}")
    if len(words_of(text)) == 1 and (is_plural(text) or len(text) == 1):  # "are mammals", "are B"
        return kind_atom(text, context)
    name = noun(text)
    return context.atom(name, f"is {text}", f"is not {text}")


def verb_phrase(text: str, context: Context) -> Pred:
    """Property given by a verb: ``fly``, ``flies``, ``can fly``, ``cannot fly``, ``does not have wings``,
    ``trains daily``, ``practices his instrument``."""
    text = text.strip()
    match = re.fullmatch(
        r"(?:can|do|does|did) not (.+)|(?:has|have|had) no (.+)|lacks? (.+)|(has|have|had) not (.+)", text
    )
    if match:
        perfect = f"{match.group(4)} {match.group(5)}" if match.group(4) else None  # "has not completed"
        inner = verb_phrase(match.group(1) or perfect or f"have {match.group(2) or match.group(3)}", context)
        return lambda s: Not(arg=inner(s))
    match = re.fullmatch(r"(may|must|need)( not)? (.+)", text)
    if match and not (match.group(1) == "need" and not match.group(2)):  # "need water" is a verb phrase
        return _deontic(match.group(1), bool(match.group(2)), match.group(3), context)
    if re.fullmatch(r"can be (\w+)", text):
        return predicate(text, context)
    text = re.sub(r"^(?:can|do|does|did) ", "", text)
    words = words_of(text)
    _check_modelled(words, text)
    if not words or words[0] in RESERVED or any(w in RESERVED - ARTICLES - POSSESSIVES - _INNER for w in words):
        raise ParseError(f"not a verb phrase: {text!r}")
    if words[-1] in POSSESSIVES:  # "loves her": an object pronoun, whose referent is unknown
        raise ParseError(f"a pronoun as object: {text!r}")
    kept = content_words(words)
    name = symbol("_".join(stem(w) for w in kept))
    if name is None or not kept:
        raise ParseError(f"not a verb phrase: {text!r}")
    said = [w.replace("_", " ") for w in words]  # as written, with its articles: "drive a car"
    base = " ".join([base_form(said[0]), *said[1:]])
    return context.atom(name, " ".join([third_person(said[0]), *said[1:]]), f"does not {base}")


def _deontic(modal: str, negated: bool, rest: str, context: Context) -> Pred:
    """``may V`` (allowed), ``must V`` (required), ``may not``/``must not V`` (not allowed), ``need not V``."""
    if modal == "need" and not negated:
        raise ParseError("'need' without 'not' is read only in preconditions")
    action = verb_phrase(rest, context)(VAR)
    assert isinstance(action, Atom)
    said = rest.replace("_", " ")
    allowed = context.atom(f"allowed_{action.pred}", f"may {said}", f"may not {said}")
    required = context.atom(f"required_{action.pred}", f"must {said}", f"need not {said}")
    if modal == "may":
        return (lambda s: Not(arg=allowed(s))) if negated else allowed
    if modal == "must":
        return (lambda s: Not(arg=allowed(s))) if negated else required
    return lambda s: Not(arg=required(s))


VAR = "x_"
_THIRD = {"have": "has", "do": "does", "be": "is", "go": "goes"}
_BASE = {v: k for k, v in _THIRD.items()}


def base_form(verb: str) -> str:
    """``trains`` -> ``train``, ``watches`` -> ``watch``, ``studies`` -> ``study``; base forms stay."""
    if verb in _BASE:
        return _BASE[verb]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    if verb.endswith("s") and not verb.endswith(("ss", "us", "is")):
        return verb[:-1]
    return verb


def third_person(verb: str) -> str:
    """``train`` -> ``trains``; a verb already inflected stays."""
    verb_base = base_form(verb)
    if verb_base != verb or verb.endswith("ed"):
        return verb
    if verb in _THIRD:
        return _THIRD[verb]
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"
