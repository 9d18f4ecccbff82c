"""Categorical, individual and if-then sentences of controlled English -> SymIL formulas.

Every function returns None (or raises ParseError) when the text is outside the grammar; nothing
is guessed. Predicates are named from singular word forms, so "cats" and "a cat" agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.words import RESERVED, is_plural, singular, symbol, verb_stem
from evolved_runtime.symil.models import And, Atom, Exists, ForAll, Formula, Implies, Not, Or

Pred = Callable[[str], Formula]
"""A property: given an individual (constant or bound variable), the formula that it has it."""

X, Y = "x_", "y_"
GENERIC_NOUNS = frozenset({"thing", "object", "block", "item", "box", "one"})
"""Nouns that range over every individual of a scene ("a block is clear if ...")."""

_NAME = r"[a-z][a-z0-9_]*"
_BE = r"(?:is|are)"
_ALL = r"(?:all|every|each|any)"
_SOME = r"(?:some|at least one)"
_EVERY_THING = r"(?:everything|everyone|everybody|anything|anyone|anybody|whatever|whoever)"
_INDEFINITE = r"(?:something|someone|somebody|anything|anyone|a thing|x)"


class Context:
    """Names known to be individuals (subjects of singular sentences), shared across sentences."""

    def __init__(self, names: set[str] | None = None) -> None:
        self.names: set[str] = names or set()


def _words(text: str) -> list[str]:
    return [w for w in text.split() if w]


def noun(text: str) -> str:
    """Predicate name of a noun phrase: ``black cats`` -> ``black_cat``."""
    words = _words(re.sub(r"^(?:a|an|the)\s+", "", text.strip()))
    if not words or any(
        w in RESERVED and len(words) + len(w) > 2 and (w != "of" or i == 0) for i, w in enumerate(words)
    ):
        raise ParseError(f"not a noun phrase: {text!r}")  # a lone letter ("some a are b") is a class
    if len(words) > 1 and singular(words[-1]) in ("thing", "person", "one", "people", "individual"):
        words = words[:-1]  # "black things" is the property "black"
    name = symbol("_".join(singular(w) for w in words))
    if name is None:
        raise ParseError(f"not a noun phrase: {text!r}")
    return name


def individual(text: str, context: Context) -> str:
    """Constant name of ``Socrates`` / ``A`` / ``the table``."""
    text = re.sub(r"^(?:the|top of)\s+", "", text.strip())
    words = _words(text)
    if len(words) != 1 or not re.fullmatch(_NAME, words[0]):
        raise ParseError(f"not a name: {text!r}")
    if words[0] in RESERVED and len(words[0]) > 1:
        raise ParseError(f"not a name: {text!r}")
    name = symbol(words[0])
    assert name is not None
    return name


def predicate(text: str, context: Context) -> Pred:
    """Property after ``is``/``are``: ``a man``, ``mortal``, ``not a dog``, ``on B``, ``can be moved``,
    ``black and white``, ``either red or blue``."""
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
    match = re.fullmatch(r"on (?:top of )?(.+)", text)
    if match:
        other = individual(match.group(1), context)
        return lambda s: Atom(pred="on", args=[s, other])
    match = re.fullmatch(r"can be (\w+)", text)
    if match:
        name = f"can_be_{verb_stem(match.group(1))}"
        return lambda s: Atom(pred=name, args=[s])
    name = noun(text)
    return lambda s: Atom(pred=name, args=[s])


def verb_phrase(text: str, context: Context) -> Pred:
    """Property given by a verb: ``fly``, ``flies``, ``can fly``, ``cannot fly``, ``does not have wings``."""
    text = text.strip()
    match = re.fullmatch(r"(?:can|do|does|did) not (.+)", text)
    if match:
        inner = verb_phrase(match.group(1), context)
        return lambda s: Not(arg=inner(s))
    match = re.fullmatch(r"can be (\w+)", text)
    if match:
        return predicate(text, context)
    text = re.sub(r"^(?:can|do|does) ", "", text)
    words = _words(text)
    if not words or words[0] in RESERVED or any(w in RESERVED - {"a", "an", "the"} for w in words):
        raise ParseError(f"not a verb phrase: {text!r}")
    words = [w for w in words if w not in ("a", "an", "the")]
    name = symbol("_".join(singular(w) for w in words))
    if name is None:
        raise ParseError(f"not a verb phrase: {text!r}")
    return lambda s: Atom(pred=name, args=[s])


def _property(rest: str, context: Context) -> Pred:
    """``is/are PRED`` or a verb phrase."""
    match = re.fullmatch(rf"{_BE} (.+)", rest)
    if match:
        return predicate(match.group(1), context)
    return verb_phrase(rest, context)


def _universal(kind: Pred, prop: Pred) -> Formula:
    return ForAll(vars=[X], body=Implies(left=kind(X), right=prop(X)))


def _existential(kind: Pred, prop: Pred) -> Formula:
    return Exists(vars=[X], body=And(args=[kind(X), prop(X)]))


def _kind(text: str, context: Context) -> Pred:
    """Class named by a noun phrase, optionally with ``that/who is PRED``."""
    match = re.fullmatch(r"(.+?) (?:that|who|which) (.+)", text)
    if match:
        base, extra = _kind(match.group(1), context), _property(match.group(2), context)
        return lambda s: And(args=[base(s), extra(s)])
    name = noun(text)
    return lambda s: Atom(pred=name, args=[s])


def statement(text: str, context: Context) -> Formula:
    """One declarative sentence (lower case, no final punctuation)."""
    text = text.strip().strip(",")
    for parse in (_definition, _requirement, _conditional, _quantified, _about_individual):
        result = parse(text, context)
        if result is not None:
            return result
    raise ParseError(f"sentence not in the grammar: {text!r}")


def _conditional(text: str, context: Context) -> Formula | None:
    match = re.fullmatch(r"if (.+?)(?:,? then |, )(.+)", text)
    if not match:
        match = re.fullmatch(r"(.+?),? (?:if) (.+)", text)
        if not match:
            return None
        consequent, condition = match.groups()
    else:
        condition, consequent = match.groups()
    pronoun = r"(?:it|they|he|she|that thing|x|the (?:\w+)|that (?:\w+)|(?:a|an) \w+)"
    if not match.group(0).startswith("if ") and re.match(rf"{pronoun} ", condition):
        # "a block can be moved if it is clear": the generic subject comes first
        first = re.fullmatch(rf"((?:{_INDEFINITE}|(?:a|an) \w+)) (.+)", consequent)
        if first:
            condition, consequent = f"{first.group(1)} {condition.split(' ', 1)[1]}", f"it {first.group(2)}"
    generic = re.fullmatch(rf"(?:{_INDEFINITE}|(?:a|an) (\w+)) (.+)", condition)
    if generic:
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
    return Implies(left=statement(condition, context), right=statement(consequent, context))


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
    name = noun(prop)
    body: Formula = Implies(
        left=Atom(pred=name, args=[X]),
        right=ForAll(vars=[Y], body=Not(arg=Atom(pred="on", args=[Y, X]))),
    )
    definition = And(
        args=[
            body,
            Implies(left=ForAll(vars=[Y], body=Not(arg=Atom(pred="on", args=[Y, X]))), right=Atom(pred=name, args=[X])),
        ]
    )
    if head is not None and singular(head) not in GENERIC_NOUNS:
        kind = noun(head)
        return ForAll(vars=[X], body=Implies(left=Atom(pred=kind, args=[X]), right=definition))
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
    able = f"can_be_{verb_stem(verb)}"
    need = predicate(required, context)
    left: Formula = Atom(pred=able, args=[X])
    if singular(head) not in GENERIC_NOUNS:
        left = And(args=[Atom(pred=noun(head), args=[X]), left])
    return ForAll(vars=[X], body=Implies(left=left, right=need(X)))


def _quantified(text: str, context: Context) -> Formula | None:
    patterns: list[tuple[str, Callable[[re.Match[str]], Formula]]] = [
        (r"not (?:all|every) (.+?) (is|are|can|do|does) (.+)",
         lambda m: _existential(_kind(m[1], context), _negate(_property(f"{m[2]} {m[3]}", context)))),
        (rf"{_ALL} (.+?) (?:that|who|which) ({_BE} .+?) ({_BE} .+)",
         lambda m: _universal(_and(_kind(m[1], context), _property(m[2], context)), _property(m[3], context))),
        (rf"{_ALL} (.+?) ({_BE} .+)",
         lambda m: _universal(_kind(m[1], context), _property(m[2], context))),
        (rf"{_ALL} (\w+) (.+)",
         lambda m: _universal(_kind(m[1], context), verb_phrase(m[2], context))),
        (rf"(?:no|none of the) (.+?) ({_BE} .+)",
         lambda m: _universal(_kind(m[1], context), _negate(_property(m[2], context)))),
        (r"no (\w+) (.+)",
         lambda m: _universal(_kind(m[1], context), _negate(verb_phrase(m[2], context)))),
        (rf"(?:{_SOME}|there (?:is|are|exists?) (?:a|an|some|at least one)?) ?(.+?) (?:that|who|which) ({_BE} .+)",
         lambda m: _existential(_kind(m[1], context), _property(m[2], context))),
        (rf"{_SOME} (.+?) ({_BE} .+)",
         lambda m: _existential(_kind(m[1], context), _property(m[2], context))),
        (rf"{_SOME} (\w+) (.+)",
         lambda m: _existential(_kind(m[1], context), verb_phrase(m[2], context))),
        (rf"only (.+?) ({_BE} .+|can .+|(?!{_BE} )\w+(?: \w+)?)",
         lambda m: ForAll(vars=[X], body=Implies(left=_property(m[2], context)(X), right=_kind(m[1], context)(X)))),
        (rf"{_EVERY_THING} (?:that|who) ({_BE} .+?) ({_BE} .+)",
         lambda m: _universal(_property(m[1], context), _property(m[2], context))),
        (rf"(?:everything|everyone|everybody) ({_BE} .+|can .+)",
         lambda m: ForAll(vars=[X], body=_property(m[1], context)(X))),
        (rf"(?:nothing|nobody|no one) ({_BE} .+|can .+)",
         lambda m: ForAll(vars=[X], body=Not(arg=_property(m[1], context)(X)))),
        (rf"(?:something|someone|somebody) ({_BE} .+|can .+)",
         lambda m: Exists(vars=[X], body=_property(m[1], context)(X))),
    ]  # fmt: skip
    for pattern, build in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            return build(match)
    return _bare_plural(text, context)


def _and(first: Pred, second: Pred) -> Pred:
    return lambda s: And(args=[first(s), second(s)])


def _negate(prop: Pred) -> Pred:
    return lambda s: Not(arg=prop(s))


def _bare_plural(text: str, context: Context) -> Formula | None:
    """``cats are mammals``, ``birds can fly``, ``penguins do not fly``: generic, read as "all"."""
    match = re.fullmatch(r"(.+?) (are .+|can .+|do not .+)", text) or re.fullmatch(r"(\w+) (\w+)", text)
    if not match:
        return None
    subject = match.group(1)
    words = _words(subject)
    if " and " in subject or not is_plural(words[-1]) or (len(words) == 1 and words[0] in context.names):
        return None
    if match.group(2).split()[0] not in ("are", "can", "do") and match.group(2).endswith("s"):
        return None
    return _universal(_kind(subject, context), _property(match.group(2), context))


def _about_individual(text: str, context: Context) -> Formula | None:
    match = re.fullmatch(rf"({_NAME}) and ({_NAME}) are (.+)", text)
    if match:
        prop = predicate(match.group(3), context)
        first, second = individual(match.group(1), context), individual(match.group(2), context)
        return And(args=[prop(first), prop(second)])
    match = re.fullmatch(rf"((?:the )?{_NAME}) (is|was) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return predicate(match.group(3), context)(name)
    match = re.fullmatch(rf"({_NAME}) (.+)", text)
    if match and (match.group(1) in context.names or not is_plural(match.group(1))):
        name = individual(match.group(1), context)
        return verb_phrase(match.group(2), context)(name)
    return None


def question(text: str, context: Context) -> Formula | None:
    """A yes/no question about the premises (lower case, without ``?``), as the claim it asks about."""
    match = re.fullmatch(
        r"(?:is it true|does it follow|is it the case|can we conclude|must it be true) that (.+)", text
    )
    if match:
        return statement(match.group(1), context)
    match = re.fullmatch(r"(?:is|are) (all|every|each|some|any|no) (.+)", text)
    if match:
        quantifier = "some" if match.group(1) == "any" else match.group(1)
        return _quantified_question(quantifier, match.group(2), context)
    match = re.fullmatch(rf"is (?:anything|something) on (?:top of )?({_NAME})", text)
    if match:
        other = individual(match.group(1), context)
        return Exists(vars=[Y], body=Atom(pred="on", args=[Y, other]))
    match = re.fullmatch(rf"can ((?:the )?{_NAME}) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return verb_phrase(f"can {match.group(2)}", context)(name)
    match = re.fullmatch(rf"(?:does|did) ((?:the )?{_NAME}) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return verb_phrase(match.group(2), context)(name)
    match = re.fullmatch(r"do (all|some|any) (\w+) (.+)", text)
    if match:
        quantifier = "some" if match.group(1) == "any" else match.group(1)
        return statement(f"{quantifier} {match.group(2)} {match.group(3)}", context)
    match = re.fullmatch(r"do (\w+) (.+)", text)
    if match and is_plural(match.group(1)):
        return _universal(_kind(match.group(1), context), verb_phrase(match.group(2), context))
    match = re.fullmatch(rf"(?:is|was) ((?:the )?{_NAME}) (.+)", text)
    if match:
        name = individual(match.group(1), context)
        return predicate(match.group(2), context)(name)
    return None


def _quantified_question(quantifier: str, rest: str, context: Context) -> Formula | None:
    """``are all cats mammals`` -> ``all cats are mammals``: try each split of subject and property."""
    words = _words(rest)
    for cut in range(1, len(words)):
        subject, prop = " ".join(words[:cut]), " ".join(words[cut:])
        try:
            return statement(f"{quantifier} {subject} are {prop}", context)
        except ParseError:
            continue
    return None
