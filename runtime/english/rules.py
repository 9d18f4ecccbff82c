"""Generic rules: "if something is a bird, it can fly", exceptions ("... unless they are ...",
"all employees except interns ..."), scene definitions ("a block is clear if nothing is on it") and
requirements ("to move a block it must be clear")."""

from __future__ import annotations

import re
from collections.abc import Callable

from evolved_runtime.english.agreement import X, kind, negate, property_of, split_subject
from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.properties import Context, Pred, kind_atom, predicate, words_of
from evolved_runtime.english.words import is_plural, singular
from evolved_runtime.symil.models import And, Atom, ForAll, Formula, Implies, Not

Y = "y_"
GENERIC_NOUNS = frozenset({"thing", "object", "block", "item", "box", "one"})
"""Nouns that range over every individual of a scene ("a block is clear if ...")."""

_INDEFINITE = r"(?:something|someone|somebody|anything|anyone|anybody|a thing|a person|x)"

Statement = Callable[[str, Context], "Formula | None"]


def conditional(text: str, context: Context) -> Formula | None:
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
    cond = property_of(rest, context)
    restrict: Pred | None = None
    if head is not None and singular(head.split()[-1]) not in GENERIC_NOUNS:
        restrict = kind(head, context)
    then = re.fullmatch(rf"{pronoun} (.+)", consequent)
    if not then:
        raise ParseError("the consequent must refer back to the same thing (it, they, the ...)")
    conc = property_of(then.group(1), context)
    left = cond(X) if restrict is None else And(args=[restrict(X), cond(X)])
    return ForAll(vars=[X], body=Implies(left=left, right=conc(X)))


def exception(text: str, context: Context, statement: Statement) -> Formula | None:
    """``employees may park unless they are on probation`` / ``students may borrow books if they have a card`` /
    ``all employees except interns may park``: the rule, restricted (nothing is said about the exception)."""
    match = re.fullmatch(r"(.+?),? (unless|if|when|provided that|as long as) (they|he|she) (.+)", text)
    if match:
        plural_rule = re.match(r"(?:all|no) |(\w+) ", match.group(1))
        plural = plural_rule is not None and (plural_rule.group(1) is None or is_plural(plural_rule.group(1)))
        if plural != (match.group(3) == "they"):
            return None  # "they" refers back to a plural class, "he"/"she" to "every ..."
        rule_text, condition = match.group(1), property_of(match.group(4), context)
        unless = condition if match.group(2) == "unless" else negate(condition)
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
        rule_text, unless = f"{match.group(1)} {rest}", kind(exception, context)
    try:
        rule = statement(rule_text, context)
    except ParseError:
        return None
    if not isinstance(rule, ForAll) or len(rule.vars) != 1:
        return None
    body, var = rule.body, rule.vars[0]
    consequent = body.right if isinstance(body, Implies) else body
    inner = consequent.arg if isinstance(consequent, Not) else consequent
    if isinstance(inner, Atom):
        context.exceptions.add(inner.pred)
    if isinstance(body, Implies):
        return ForAll(vars=[var], body=Implies(left=And(args=[body.left, Not(arg=unless(var))]), right=body.right))
    return ForAll(vars=[var], body=Implies(left=Not(arg=unless(var)), right=body))


def definition(text: str, context: Context) -> Formula | None:
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


def requirement(text: str, context: Context) -> Formula | None:
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
