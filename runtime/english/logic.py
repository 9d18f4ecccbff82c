"""Categorical and generic sentences of controlled English -> SymIL formulas.

"All/some/no/only A are B", bare plurals, "every A that ... is ...", generic if-then ("if something
is a bird, it can fly"), scene definitions and requirements. Every function returns None (or raises
ParseError) when the text is outside the grammar; nothing is guessed. Where the subject and the verb
of "all professional athletes train daily" could be split in several ways, number agreement must
leave exactly one split, else the sentence is not translated.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.inflection import POSSESSIVES
from evolved_runtime.english.properties import (
    Context,
    Pred,
    base_form,
    individual,
    kind_atom,
    noun,
    predicate,
    verb_phrase,
    words_of,
)
from evolved_runtime.english.words import RESERVED, UNMODELLED, is_plural, singular
from evolved_runtime.symil.models import And, Atom, Exists, ForAll, Formula, Implies, Not

X, Y = "x_", "y_"
GENERIC_NOUNS = frozenset({"thing", "object", "block", "item", "box", "one"})
"""Nouns that range over every individual of a scene ("a block is clear if ...")."""

_BE = r"(?:is|are)"
_ALL = r"(?:all|every|each|any)"
_SOME = r"(?:some|at least one)"
_INDEFINITE = r"(?:something|someone|somebody|anything|anyone|anybody|a thing|a person|x)"
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
_PREPOSITIONS = frozenset({"of", "in", "on", "at", "from", "with"})
_ANYBODY = frozenset({"people", "persons", "things", "ones", "individuals", "those", "anyone", "anything"})
_AUX = frozenset({"can", "do", "does", "did", "may", "must", "need", "has", "have", "had"})


def _kind(text: str, context: Context) -> Pred:
    """Class named by a noun phrase, optionally with ``that/who is PRED`` or ``who VERB ...``."""
    match = re.fullmatch(r"(.+?) (?:that|who|which) (.+)", text)
    if match:
        extra = _property(match.group(2), context)
        if match.group(1) in _ANYBODY:  # "people who drink coffee": just the property
            return extra
        base = _kind(match.group(1), context)
        return lambda s: And(args=[base(s), extra(s)])
    return kind_atom(text, context)


def _property(rest: str, context: Context) -> Pred:
    """``is/are PRED``, ``are birds that cannot fly``, or a verb phrase."""
    match = re.fullmatch(rf"{_BE} ((?:a |an )?\w+(?: \w+)?) (?:that|who|which) (.+)", rest)
    if match:
        return _and(_kind(match.group(1), context), _property(match.group(2), context))
    match = re.fullmatch(rf"{_BE} (.+)", rest)
    if match:
        return predicate(match.group(1), context)
    return verb_phrase(rest, context)


def _verb_starts(word: str, plural: bool) -> bool:
    """Can ``word`` start the verb phrase of a plural (or singular) subject?"""
    if word in _AUX:
        return True
    if word in RESERVED or word in UNMODELLED or word in _ADVERBS or word in POSSESSIVES or word.endswith("ly"):
        return False
    if "_" in word or len(word) == 1:  # a label ("door_c") or a letter names a thing
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
        head = next((i for i, w in enumerate(words[:cut]) if w in _PREPOSITIONS and i > 0), cut)
        last = words[head - 1]  # "members of the team": the head noun comes before "of"
        if words[cut - 1] in RESERVED or (is_plural(last) != plural and last not in ("fish", "sheep", "deer")):
            continue
        if any(w in POSSESSIVES for w in words[:cut]):
            continue
        if _verb_starts(verb, plural):
            splits.append((" ".join(words[:cut]), " ".join(words[cut:])))
    if len(splits) > 1 and any(w in _PREPOSITIONS for w in splits[0][0].split()[1:]):
        return splits[:1]  # "member of the club | pays dues": the noun phrase ends at the first verb
    return splits


def _one_split(text: str, plural: bool) -> tuple[str, str]:
    splits = split_subject(words_of(text), plural)
    if len(splits) != 1:
        raise ParseError(f"cannot tell the subject from the verb: {text!r}")
    return splits[0]


def _relative_verb(text: str, context: Context, plural: bool) -> tuple[Pred, Pred]:
    """``studies hard passes the exam`` -> (studies hard, passes the exam): both verbs agree with the subject."""
    described = re.fullmatch(r"((?!is |are ).+?) (?:is|are) (.+)", text)
    if described:  # "who exercise are healthy"
        return verb_phrase(described.group(1), context), predicate(described.group(2), context)
    words = words_of(text)
    cuts = [cut for cut in range(1, len(words)) if _verb_starts(words[cut], plural) and words[cut - 1] not in RESERVED]
    if not words or not _verb_starts(words[0], plural) or len(cuts) != 1:
        raise ParseError(f"cannot tell the relative clause from the verb: {text!r}")
    cut = cuts[0]
    return verb_phrase(" ".join(words[:cut]), context), verb_phrase(" ".join(words[cut:]), context)


def statement(text: str, context: Context) -> Formula | None:
    """A generic or quantified sentence (lower case, no final punctuation), or None."""
    for parse in (_exception, _definition, _requirement, _conditional, _quantified):
        result = parse(text, context)
        if result is not None:
            return result
    return None


def _conditional(text: str, context: Context) -> Formula | None:
    """``if something is a bird then it can fly``; ``a block can be moved if it is clear``."""
    match = re.fullmatch(r"(?:if|whenever|when) (.+?)(?:,? then |, )(.+)", text)
    if not match:
        match = re.fullmatch(r"(.+?),? (?:if|whenever) (.+)", text)
        if not match:
            return None
        consequent, condition = match.groups()
    else:
        condition, consequent = match.groups()
    pronoun = r"(?:it|they|he|she|that thing|that person|x|the (?:\w+)|that (?:\w+)|(?:a|an) \w+)"
    if not re.match(r"(?:if|whenever|when) ", match.group(0)) and re.match(rf"{pronoun} ", condition):
        # "a block can be moved if it is clear": the generic subject comes first
        first = re.fullmatch(rf"((?:{_INDEFINITE}|(?:a|an) \w+)) (.+)", consequent)
        if first:
            condition, consequent = f"{first.group(1)} {condition.split(' ', 1)[1]}", f"it {first.group(2)}"
    generic = re.fullmatch(rf"(?:{_INDEFINITE}|(?:a|an) (\w+)) (.+)", condition)
    if not generic:
        return None
    head, rest = generic.groups()
    cond = _property(rest, context)
    kind: Pred | None = None
    if head is not None and singular(head.split()[-1]) not in GENERIC_NOUNS:
        kind = _kind(head, context)
    then = re.fullmatch(rf"{pronoun} (.+)", consequent)
    if not then:
        raise ParseError("the consequent must refer back to the same thing (it, they, the ...)")
    conc = _property(then.group(1), context)
    left = cond(X) if kind is None else And(args=[kind(X), cond(X)])
    return ForAll(vars=[X], body=Implies(left=left, right=conc(X)))


def _exception(text: str, context: Context) -> Formula | None:
    """``employees may park unless they are on probation`` / ``students may borrow books if they have a card`` /
    ``all employees except interns may park``: the rule, restricted (nothing is said about the exception)."""
    match = re.fullmatch(r"(.+?),? (unless|if|when|provided that|as long as) (they|he|she) (.+)", text)
    if match:
        plural_rule = re.match(r"(?:all|no) |(\w+) ", match.group(1))
        plural = plural_rule is not None and (plural_rule.group(1) is None or is_plural(plural_rule.group(1)))
        if plural != (match.group(3) == "they"):
            return None  # "they" refers back to a plural class, "he"/"she" to "every ..."
        rule_text, condition = match.group(1), _property(match.group(4), context)
        unless = condition if match.group(2) == "unless" else _negate(condition)
    else:
        match = re.fullmatch(
            r"((?:all|every|each|any|no) \w+|everyone|everybody|anyone),? (?:except|other than|but not) (?:for )?(.+)",
            text,
        )
        if not match:
            return None
        splits = split_subject(words_of(match.group(2)), True) + split_subject(words_of(match.group(2)), False)
        if len(splits) != 1:
            raise ParseError(f"cannot tell the exception from the verb: {text!r}")
        exception, rest = splits[0]
        rule_text, unless = f"{match.group(1)} {rest}", _kind(exception, context)
    try:
        rule = statement(rule_text, context)
    except ParseError:
        return None
    if not isinstance(rule, ForAll) or len(rule.vars) != 1:
        return None
    body, var = rule.body, rule.vars[0]
    if isinstance(body, Implies):
        return ForAll(vars=[var], body=Implies(left=And(args=[body.left, Not(arg=unless(var))]), right=body.right))
    return ForAll(vars=[var], body=Implies(left=Not(arg=unless(var)), right=body))


def _definition(text: str, context: Context) -> Formula | None:
    """``a block is clear if nothing is on it``: clear exactly when nothing is on it."""
    match = re.fullmatch(
        rf"(?:(?:a|an) (\w+)|{_INDEFINITE}|x) is (\w+) (?:if|when|iff|if and only if) "
        r"(?:nothing|no (?:\w+)) is on (?:top of )?(?:it|x)",
        text,
    )
    if not match:
        return None
    head, prop = match.groups()
    clear = predicate(prop, context)
    nothing_on = ForAll(vars=[Y], body=Not(arg=Atom(pred="on", args=[Y, X])))
    definition = And(args=[Implies(left=clear(X), right=nothing_on), Implies(left=nothing_on, right=clear(X))])
    if head is not None and singular(head) not in GENERIC_NOUNS:
        return ForAll(vars=[X], body=Implies(left=kind_atom(head, context)(X), right=definition))
    return ForAll(vars=[X], body=definition)


def _requirement(text: str, context: Context) -> Formula | None:
    """``to move a block it must be clear``: whatever can be moved is clear."""
    match = re.fullmatch(
        r"(?:to|in order to) (\w+) (?:a|an) (\w+),? (?:it|the \w+) (?:must|has to|needs to) be (.+)", text
    )
    if not match:
        match = re.fullmatch(r"(?:a|an) (\w+) (?:must|has to|needs to) be (.+?) to be (\w+)", text)
        if not match:
            return None
        head, required, verb = match.groups()
    else:
        verb, head, required = match.groups()
    able = predicate(f"can be {verb}", context)
    need = predicate(required, context)
    left: Formula = able(X)
    if singular(head) not in GENERIC_NOUNS:
        left = And(args=[kind_atom(head, context)(X), left])
    return ForAll(vars=[X], body=Implies(left=left, right=need(X)))


def _universal(kind: Pred, prop: Pred) -> Formula:
    return ForAll(vars=[X], body=Implies(left=kind(X), right=prop(X)))


def _existential(kind: Pred, prop: Pred) -> Formula:
    return Exists(vars=[X], body=And(args=[kind(X), prop(X)]))


def _and(first: Pred, second: Pred) -> Pred:
    return lambda s: And(args=[first(s), second(s)])


def _negate(prop: Pred) -> Pred:
    return lambda s: Not(arg=prop(s))


def _negated_second(pair: tuple[Pred, Pred]) -> tuple[Pred, Pred]:
    return pair[0], _negate(pair[1])


def _subject_verb(text: str, context: Context, plural: bool) -> tuple[Pred, Pred]:
    """``professional athletes train daily`` / ``dog that chases cats barks``: the class and the property."""
    relative = re.fullmatch(r"(.+?) (?:that|who|which) (?!is |are )(.+)", text)
    if relative:
        first, second = _relative_verb(relative.group(2), context, plural)
        if relative.group(1) in _ANYBODY:
            return first, second
        return _and(_kind(relative.group(1), context), first), second
    subject, verb = _one_split(text, plural)
    return _kind(subject, context), verb_phrase(verb, context)


def _quantified(text: str, context: Context) -> Formula | None:
    if re.match(
        r"(?:all|every|each|any)\b(?:(?! who | that | which ).)* (?:(?:is|are|do|does|can) not|cannot)\b", text
    ):
        # "all that glitters is not gold", "all birds cannot fly": no, or not all? Two readings.
        raise ParseError(f"'all ... not' has two readings: {text!r}")
    only = re.match(r"only (\w+) ", text)
    if only and only.group(1) in context.names:
        raise ParseError(f"'only' with a name is not a class: {text!r}")
    patterns: list[tuple[str, Callable[[re.Match[str]], Formula]]] = [
        (r"not (?:all|every) (.+?) (is|are|can|do|does) (.+)",
         lambda m: _existential(_kind(m[1], context), _negate(_property(f"{m[2]} {m[3]}", context)))),
        (rf"{_ALL} (.+?) (?:that|who|which) ({_BE} .+?) ({_BE} .+)",
         lambda m: _universal(_and(_kind(m[1], context), _property(m[2], context)), _property(m[3], context))),
        (rf"{_ALL} (.+?) ({_BE} .+)",
         lambda m: _universal(_kind(m[1], context), _property(m[2], context))),
        (r"all (.+)", lambda m: _universal(*_subject_verb(m[1], context, plural=True))),
        (r"(?:every|each|any) (.+)", lambda m: _universal(*_subject_verb(m[1], context, plural=False))),
        (r"(?:a|an) (\w+ (?:who|that) .+)", lambda m: _universal(*_subject_verb(m[1], context, plural=False))),
        (rf"(?:no|none of the) (.+?) ({_BE} .+)",
         lambda m: _universal(_kind(m[1], context), _negate(_property(m[2], context)))),
        (r"no (.+)", lambda m: _universal(*_negated_second(_any_number(m[1], context)))),
        (rf"(?:{_SOME}|there (?:is|are|exists?) (?:a|an|some|at least one)?) ?(.+?) (?:that|who|which) ({_BE} .+)",
         lambda m: _existential(_kind(m[1], context), _property(m[2], context))),
        (rf"{_SOME} (.+?) ({_BE} .+)",
         lambda m: _existential(_kind(m[1], context), _property(m[2], context))),
        (r"(?:some|at least one) (.+)", lambda m: _existential(*_any_number(m[1], context))),
        (rf"only (.+?) ({_BE} .+|can .+|may .+|(?!{_BE} )\w+(?: \w+)?)",
         lambda m: ForAll(vars=[X], body=Implies(left=_property(m[2], context)(X), right=_kind(m[1], context)(X)))),
        (rf"(?:everything|everyone|everybody|anyone|anybody|whoever) (?:that|who) ({_BE} .+?) ({_BE} .+)",
         lambda m: _universal(_property(m[1], context), _property(m[2], context))),
        (rf"(?:everyone|everybody|anyone|anybody|whoever) (?:who|that) ({_BE} .+?) ((?:can|may|must|need not) .+)",
         lambda m: _universal(_property(m[1], context), verb_phrase(m[2], context))),
        (rf"(?:(?:everyone|everybody|anyone|anybody) who|whoever) ((?!is |are ).+?) ({_BE} .+)",
         lambda m: _universal(verb_phrase(m[1], context), _property(m[2], context))),
        (r"(?:(?:everyone|everybody|anyone|anybody) who|whoever) (.+)",
         lambda m: _universal(*_relative_verb(m[1], context, plural=False))),
        (rf"(?:everything|everyone|everybody) ({_BE} .+|can .+|may .+|must .+)",
         lambda m: ForAll(vars=[X], body=_property(m[1], context)(X))),
        (rf"(?:nothing|nobody|no one) ({_BE} .+|can .+|may .+)",
         lambda m: ForAll(vars=[X], body=Not(arg=_property(m[1], context)(X)))),
        (r"(?:nothing|nobody|no one) (.+)", lambda m: ForAll(vars=[X], body=Not(arg=verb_phrase(m[1], context)(X)))),
        (rf"(?:something|someone|somebody) ({_BE} .+|can .+)",
         lambda m: Exists(vars=[X], body=_property(m[1], context)(X))),
    ]  # fmt: skip
    for pattern, build in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            return build(match)
    return _bare_plural(text, context)


def _any_number(text: str, context: Context) -> tuple[Pred, Pred]:
    """``reptiles have fur`` / ``reptile has fur`` after "no" or "some": the one reading that agrees."""
    readings: list[tuple[Pred, Pred]] = []
    heads: list[str] = []
    for plural in (True, False):
        try:
            kind, prop = _subject_verb(text, context, plural)
        except ParseError:
            continue
        if not any((kind(X), prop(X)) == (k(X), p(X)) for k, p in readings):  # "no fish can fly": one reading
            readings.append((kind, prop))
            heads.append(singular(_one_split(text, plural)[0].split()[-1]))
    if len(readings) == 2:  # "no vegetarian eats meat": the subject is the word the text uses as a noun
        readings = [r for r, head in zip(readings, heads, strict=True) if head in context.nouns]
    if len(readings) != 1:
        raise ParseError(f"not one reading of subject and verb: {text!r}")
    return readings[0]


def _bare_plural(text: str, context: Context) -> Formula | None:
    """``cats are mammals``, ``birds can fly``, ``professional athletes train daily``: read as "all"."""
    relative = re.fullmatch(r"(\w+(?: \w+)?) (?:who|that) (?!is |are )(.+)", text)
    if relative and is_plural(relative.group(1).split()[-1]) and relative.group(1).split()[0] not in RESERVED:
        first, second = _relative_verb(relative.group(2), context, plural=True)
        if relative.group(1) in _ANYBODY:  # "people who exercise are healthy": whoever exercises
            return _universal(first, second)
        return _universal(_and(_kind(relative.group(1), context), first), second)
    match = re.fullmatch(r"(.+?) (are .+|can .+|cannot .+|do not .+|may .+|must .+)", text)
    words = words_of(text)
    if match:
        subject, rest = match.groups()
    else:
        splits = split_subject(words, plural=True)
        if len(splits) != 1:
            return None
        subject, rest = splits[0]
    subject_words = words_of(subject)
    if (
        " and " in subject
        or not is_plural(subject_words[-1])
        or subject_words[0] in context.names
        or subject_words[0] in RESERVED
        or any(w.endswith("ing") or "_" in w for w in subject_words)
    ):
        return None
    return _universal(_kind(subject, context), _property(rest, context))


def question(text: str, context: Context) -> Formula | None:
    """A yes/no question about categories (lower case, without ``?``), as the claim it asks about."""
    match = re.fullmatch(r"(?:is|are) (all|every|each|some|any|no) (.+)", text)
    if match:
        quantifier = "some" if match.group(1) == "any" else match.group(1)
        return _quantified_question(quantifier, match.group(2), context)
    match = re.fullmatch(r"are (\w+) (.+)", text)
    if match and is_plural(match.group(1)) and match.group(1) not in RESERVED | context.names:
        return _quantified_question("all", f"{match.group(1)} {match.group(2)}", context)
    match = re.fullmatch(r"is (?:anything|something) on (?:top of )?(\w+)", text)
    if match:
        other = individual(match.group(1), context)
        return Exists(vars=[Y], body=Atom(pred="on", args=[Y, other]))
    match = re.fullmatch(r"(?:do|does) (all|some|any|every|each) (.+)", text)
    if match:
        quantifier = "some" if match.group(1) == "any" else match.group(1)
        return statement(f"{quantifier} {match.group(2)}", context)
    match = re.fullmatch(r"do (.+)", text)
    if match:
        subject, verb = _one_split(match.group(1), plural=True)
        if is_plural(subject.split()[-1]) and subject not in context.names:
            return _universal(_kind(subject, context), verb_phrase(verb, context))
    return None


def _quantified_question(quantifier: str, rest: str, context: Context) -> Formula | None:
    """``are all cats mammals`` -> ``all cats are mammals``: exactly one split of subject and property."""
    words = words_of(rest)
    found: list[Formula] = []
    plural = quantifier in ("all", "some", "no")
    for cut in range(1, len(words)):
        if is_plural(words[cut - 1]) != plural:
            continue
        subject, prop = " ".join(words[:cut]), " ".join(words[cut:])
        try:
            formula = statement(f"{quantifier} {subject} are {prop}", context)
        except ParseError:
            continue
        if formula is not None and formula not in found:
            found.append(formula)
    if len(found) > 1:
        raise ParseError(f"more than one reading: {rest!r}")
    return found[0] if found else None


__all__ = ["Context", "X", "Y", "individual", "noun", "predicate", "question", "statement", "verb_phrase"]
