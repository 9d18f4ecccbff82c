"""Categorical sentences of controlled English -> SymIL formulas.

"All/some/no/only A are B", "not all A are B", bare plurals ("cats are mammals"), "every A that ...
is ...", "everyone who ...", and the questions about classes ("are all cats mammals?"). Generic
rules (if-then, exceptions, definitions, requirements) are in ``rules``. Every function returns None
(or raises ParseError) when the text is outside the grammar; nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evolved_runtime.english import rules
from evolved_runtime.english.agreement import (
    ANYBODY,
    BE,
    X,
    and_,
    existential,
    kind,
    negate,
    negated_second,
    one_split,
    property_of,
    relative_verb,
    split_subject,
    subject_verb,
    universal,
)
from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.properties import Context, Pred, individual, verb_phrase, words_of
from evolved_runtime.english.rules import Y
from evolved_runtime.english.words import RESERVED, is_plural, singular
from evolved_runtime.symil.models import Atom, Exists, ForAll, Formula, Implies, Not

_ALL = r"(?:all|every|each|any)"
_SOME = r"(?:some|at least one)"


def statement(text: str, context: Context) -> Formula | None:
    """A generic or quantified sentence (lower case, no final punctuation), or None."""
    result = rules.exception(text, context, statement)
    for parse in (rules.definition, rules.requirement, rules.conditional, _quantified):
        if result is not None:
            return result
        result = parse(text, context)
    return result


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
         lambda m: existential(kind(m[1], context), negate(property_of(f"{m[2]} {m[3]}", context)))),
        (rf"{_ALL} (.+?) (?:that|who|which) ({BE} .+?) ({BE} .+)",
         lambda m: universal(and_(kind(m[1], context), property_of(m[2], context)), property_of(m[3], context))),
        (rf"{_ALL} (.+?) ({BE} .+)",
         lambda m: universal(kind(m[1], context), property_of(m[2], context))),
        (r"all (.+)", lambda m: universal(*subject_verb(m[1], context, plural=True))),
        (r"(?:every|each|any) (.+)", lambda m: universal(*subject_verb(m[1], context, plural=False))),
        (r"(?:a|an) (\w+ (?:who|that) .+)", lambda m: universal(*subject_verb(m[1], context, plural=False))),
        (rf"(?:no|none of the) (.+?) ({BE} .+)",
         lambda m: universal(kind(m[1], context), negate(property_of(m[2], context)))),
        (r"no (.+)", lambda m: universal(*negated_second(_any_number(m[1], context)))),
        (rf"(?:{_SOME}|there (?:is|are|exists?) (?:a|an|some|at least one)?) ?(.+?) (?:that|who|which) ({BE} .+)",
         lambda m: existential(kind(m[1], context), property_of(m[2], context))),
        (rf"{_SOME} (.+?) ({BE} .+)",
         lambda m: existential(kind(m[1], context), property_of(m[2], context))),
        (r"(?:some|at least one) (.+)", lambda m: existential(*_any_number(m[1], context))),
        (rf"only (.+?) ({BE} .+|can .+|may .+|(?!{BE} )\w+(?: \w+)?)",
         lambda m: ForAll(vars=[X], body=Implies(left=property_of(m[2], context)(X), right=kind(m[1], context)(X)))),
        (rf"(?:everything|everyone|everybody|anyone|anybody|whoever) (?:that|who) ({BE} .+?) ({BE} .+)",
         lambda m: universal(property_of(m[1], context), property_of(m[2], context))),
        (rf"(?:everyone|everybody|anyone|anybody|whoever) (?:who|that) ({BE} .+?) ((?:can|may|must|need not) .+)",
         lambda m: universal(property_of(m[1], context), verb_phrase(m[2], context))),
        (rf"(?:(?:everyone|everybody|anyone|anybody) who|whoever) ((?!is |are ).+?) ({BE} .+)",
         lambda m: universal(verb_phrase(m[1], context), property_of(m[2], context))),
        (r"(?:(?:everyone|everybody|anyone|anybody) who|whoever) (.+)",
         lambda m: universal(*relative_verb(m[1], context, plural=False))),
        (rf"(?:everything|everyone|everybody) ({BE} .+|can .+|may .+|must .+)",
         lambda m: ForAll(vars=[X], body=property_of(m[1], context)(X))),
        (rf"(?:nothing|nobody|no one) ({BE} .+|can .+|may .+)",
         lambda m: ForAll(vars=[X], body=Not(arg=property_of(m[1], context)(X)))),
        (r"(?:nothing|nobody|no one) (.+)", lambda m: ForAll(vars=[X], body=Not(arg=verb_phrase(m[1], context)(X)))),
        (rf"(?:something|someone|somebody) ({BE} .+|can .+)",
         lambda m: Exists(vars=[X], body=property_of(m[1], context)(X))),
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
            kind, prop = subject_verb(text, context, plural)
        except ParseError:
            continue
        if not any((kind(X), prop(X)) == (k(X), p(X)) for k, p in readings):  # "no fish can fly": one reading
            readings.append((kind, prop))
            heads.append(singular(one_split(text, plural)[0].split()[-1]))
    if len(readings) == 2:  # "no vegetarian eats meat": the subject is the word the text uses as a noun
        readings = [r for r, head in zip(readings, heads, strict=True) if head in context.nouns]
    if len(readings) != 1:
        raise ParseError(f"not one reading of subject and verb: {text!r}")
    return readings[0]


def _bare_plural(text: str, context: Context) -> Formula | None:
    """``cats are mammals``, ``birds can fly``, ``professional athletes train daily``: read as "all"."""
    relative = re.fullmatch(r"(\w+(?: \w+)?) (?:who|that) (?!is |are )(.+)", text)
    if relative and is_plural(relative.group(1).split()[-1]) and relative.group(1).split()[0] not in RESERVED:
        first, second = relative_verb(relative.group(2), context, plural=True)
        if relative.group(1) in ANYBODY:  # "people who exercise are healthy": whoever exercises
            return universal(first, second)
        return universal(and_(kind(relative.group(1), context), first), second)
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
    return universal(kind(subject, context), property_of(rest, context))


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
        subject, verb = one_split(match.group(1), plural=True)
        if is_plural(subject.split()[-1]) and subject not in context.names:
            return universal(kind(subject, context), verb_phrase(verb, context))
    return None


def _quantified_question(quantifier: str, rest: str, context: Context) -> Formula | None:
    """``are all cats mammals`` -> ``all cats are mammals``: exactly one split of subject and property."""
    words = words_of(rest)
    found: list[Formula] = []
    plural = quantifier in ("all", "some", "no")
    for cut in range(1, len(words)):
        if is_plural(words[cut - 1]) != plural and len(words[cut - 1]) > 1:  # a letter is any number
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
