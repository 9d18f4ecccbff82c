"""Subject and verb, class and property: how a sentence's noun phrase and verb phrase are found.

Where the subject and the verb of "all professional athletes train daily" could be split in several
ways, number agreement must leave exactly one split ("professional athletes | train daily"), else
the sentence is not translated.
"""

from __future__ import annotations

import re

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.inflection import POSSESSIVES
from evolved_runtime.english.properties import Context, Pred, base_form, kind_atom, predicate, verb_phrase, words_of
from evolved_runtime.english.words import RESERVED, UNMODELLED, is_plural
from evolved_runtime.symil.models import And, Exists, ForAll, Formula, Implies, Not

X = "x_"
BE = r"(?:is|are)"
_ADVERBS = frozenset(
    [
        "hard",
        "well",
        "fast",
        "late",
        "early",
        "here",
        "there",
        "home",
        "together",
        "alone",
        "away",
        "overtime",
        "abroad",
        "today",
        "tomorrow",
        "yesterday",
        "tonight",
        "now",
        "outside",
        "inside",
        "back",
        "upstairs",
        "downstairs",
        "online",
    ]
)
PREPOSITIONS = frozenset({"of", "in", "on", "at", "from", "with"})
ANYBODY = frozenset({"people", "persons", "things", "ones", "individuals", "those", "anyone", "anything"})
_AUX = frozenset({"can", "do", "does", "did", "may", "must", "need", "has", "have", "had"})


def kind(text: str, context: Context) -> Pred:
    """Class named by a noun phrase, optionally with ``that/who is PRED`` or ``who VERB ...``."""
    match = re.fullmatch(r"(.+?) (?:that|who|which) (.+)", text)
    if match:
        extra = property_of(match.group(2), context)
        if match.group(1) in ANYBODY:  # "people who drink coffee": just the property
            return extra
        base = kind(match.group(1), context)
        return lambda s: And(args=[base(s), extra(s)])
    return kind_atom(text, context)


def property_of(rest: str, context: Context) -> Pred:
    """``is/are PRED``, ``are birds that cannot fly``, or a verb phrase."""
    match = re.fullmatch(rf"{BE} ((?:a |an )?\w+(?: \w+)?) (?:that|who|which) (.+)", rest)
    if match:
        return and_(kind(match.group(1), context), property_of(match.group(2), context))
    match = re.fullmatch(rf"{BE} (.+)", rest)
    if match:
        return predicate(match.group(1), context)
    return verb_phrase(rest, context)


def verb_starts(word: str, plural: bool) -> bool:
    """Can ``word`` start the verb phrase of a plural (or singular) subject?"""
    if word in _AUX:
        return True
    if word in RESERVED or word in UNMODELLED or word in _ADVERBS or word in POSSESSIVES or word.endswith("ly"):
        return False
    if "_" in word or len(word) == 1:  # a label ("door_c") or a letter names a thing
        return False
    if word.endswith("ing") and len(word) > 4:  # "training": no finite verb starts with a participle
        return False
    if word.endswith("ed"):
        return True
    inflected = base_form(word) != word
    return inflected != plural


def split_subject(words: list[str], plural: bool) -> list[tuple[str, str]]:
    """Every (noun phrase, verb phrase) split whose number agrees (``professional athletes | train daily``)."""
    splits: list[tuple[str, str]] = []
    for cut in range(1, len(words)):
        verb = words[cut]
        head = next((i for i, w in enumerate(words[:cut]) if w in PREPOSITIONS and i > 0), cut)
        last = words[head - 1]  # "members of the team": the head noun comes before "of"
        if words[cut - 1] in RESERVED or (is_plural(last) != plural and last not in ("fish", "sheep", "deer")):
            continue
        if any(w in POSSESSIVES for w in words[:cut]):
            continue
        if verb_starts(verb, plural):
            splits.append((" ".join(words[:cut]), " ".join(words[cut:])))
    if len(splits) > 1 and any(w in PREPOSITIONS for w in splits[0][0].split()[1:]):
        return splits[:1]  # "member of the club | pays dues": the noun phrase ends at the first verb
    return splits


def one_split(text: str, plural: bool) -> tuple[str, str]:
    splits = split_subject(words_of(text), plural)
    if len(splits) != 1:
        raise ParseError(f"cannot tell the subject from the verb: {text!r}")
    return splits[0]


def relative_verb(text: str, context: Context, plural: bool) -> tuple[Pred, Pred]:
    """``studies hard passes the exam`` -> (studies hard, passes the exam): both verbs agree with the subject."""
    described = re.fullmatch(r"((?!is |are ).+?) (?:is|are) (.+)", text)
    if described:  # "who exercise are healthy"
        return verb_phrase(described.group(1), context), predicate(described.group(2), context)
    words = words_of(text)
    cuts = [  # a verb right after an auxiliary belongs to it ("have completed")
        cut
        for cut in range(1, len(words))
        if verb_starts(words[cut], plural) and words[cut - 1] not in RESERVED and words[cut - 1] not in _AUX
    ]
    if not words or not verb_starts(words[0], plural) or len(cuts) != 1:
        raise ParseError(f"cannot tell the relative clause from the verb: {text!r}")
    cut = cuts[0]
    return verb_phrase(" ".join(words[:cut]), context), verb_phrase(" ".join(words[cut:]), context)


def universal(kind: Pred, prop: Pred) -> Formula:
    return ForAll(vars=[X], body=Implies(left=kind(X), right=prop(X)))


def existential(kind: Pred, prop: Pred) -> Formula:
    return Exists(vars=[X], body=And(args=[kind(X), prop(X)]))


def and_(first: Pred, second: Pred) -> Pred:
    return lambda s: And(args=[first(s), second(s)])


def negate(prop: Pred) -> Pred:
    return lambda s: Not(arg=prop(s))


def negated_second(pair: tuple[Pred, Pred]) -> tuple[Pred, Pred]:
    return pair[0], negate(pair[1])


def subject_verb(text: str, context: Context, plural: bool) -> tuple[Pred, Pred]:
    """``professional athletes train daily`` / ``dog that chases cats barks``: the class and the property."""
    relative = re.fullmatch(r"(.+?) (?:that|who|which) (?!is |are )(.+)", text)
    if relative:
        first, second = relative_verb(relative.group(2), context, plural)
        if relative.group(1) in ANYBODY:
            return first, second
        return and_(kind(relative.group(1), context), first), second
    subject, verb = one_split(text, plural)
    return kind(subject, context), verb_phrase(verb, context)
