"""One sentence or question of controlled English -> one SymIL formula: the connectives between
clauses (if-then, unless, only if, if and only if, either-or, neither-nor, and, not) over the
categorical sentences of ``logic`` and the sentences about named things of ``individuals``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evolved_runtime.english import actions, arithmetic, individuals, logic
from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.properties import Context
from evolved_runtime.symil.models import And, Formula, Iff, Implies, Not, Or

_NEGATION = r"(?:it is not (?:the case|true) that|it is false that|not)"


def statement(text: str, context: Context) -> Formula:
    """One declarative sentence (lower case, no final punctuation); ParseError if outside the grammar."""
    text = text.strip().strip(",").strip()
    if arithmetic.looks_numeric(text) and not re.match(r"(?:if|when|whenever|either|neither|not) ", text):
        try:  # "x is greater than 3" inside "if x is greater than 3, y is 10"
            return arithmetic.parse_worded_comparison(text)
        except ParseError:
            pass
    for parse in (_connective, _clauses, actions.statement, logic.statement, individuals.statement):
        result = parse(text, context)
        if result is not None:
            return result
    raise ParseError(f"sentence not in the grammar: {text!r}")


def _either(parts: tuple[str, ...], context: Context) -> Formula:
    return Or(args=[statement(p, context) for p in parts])


_PATTERNS: list[tuple[str, Callable[[tuple[str, ...], Context], Formula]]] = [
    (rf"{_NEGATION} (.+)", lambda g, c: Not(arg=statement(g[0], c))),
    (r"either (.+?),? or (.+)", _either),
    (r"neither (.+?) nor (.+)", lambda g, c: And(args=[Not(arg=statement(p, c)) for p in g])),
    (r"(.+?),? if and only if (.+)|(.+?),? iff (.+)", lambda g, c: Iff(left=statement(g[0], c), right=statement(g[1], c))),
    (r"(.+?),? only if (.+)", lambda g, c: Implies(left=statement(g[0], c), right=statement(g[1], c))),
    (r"(?:if|when|whenever|provided that) (.+?)(?:,? then |, )(.+)", lambda g, c: _if(g[0], g[1], c)),
    (r"(.+?) implies (?:that )?(.+)", lambda g, c: Implies(left=statement(g[0], c), right=statement(g[1], c))),
    (r"unless (.+?), (.+)", lambda g, c: Implies(left=Not(arg=statement(g[0], c)), right=statement(g[1], c))),
    (r"(.+?),? unless (.+)", lambda g, c: Implies(left=Not(arg=statement(g[1], c)), right=statement(g[0], c))),
    (r"(.+?),? (?:if|whenever|when|provided that) (.+)", lambda g, c: _if(g[1], g[0], c)),
]  # fmt: skip


def _connective(text: str, context: Context) -> Formula | None:
    """Connectives between whole clauses; generic rules ("if something is ...") go to ``logic`` first."""
    if re.match(r"(?:if|when|whenever) |.+ (?:if|unless|except) ", text):
        try:
            generic = logic.statement(text, context)
        except ParseError:
            generic = None
        if generic is not None:
            return generic
    for pattern, build in _PATTERNS:
        match = re.fullmatch(pattern, text)
        if match:
            groups = tuple(g for g in match.groups() if g is not None)
            return build(groups, context)
    return None


def _if(condition: str, consequent: str, context: Context) -> Formula:
    """``if tom studies, he passes``: a pronoun in the consequent names the one individual of the condition."""
    left = statement(condition, context)
    pronoun = re.match(r"(he|she|they|it) ", consequent)
    if pronoun and not (pronoun.group(1) == "it" and consequent.startswith("it is ") and _weather(consequent)):
        names = sorted({n for n in re.findall(r"(?<![a-z0-9_])[a-z][a-z0-9_]*", condition) if n in context.names})
        if len(names) != 1:
            raise ParseError(f"whom does {pronoun.group(1)!r} refer to? {consequent!r}")
        consequent = names[0] + consequent[pronoun.end() - 1 :]
    return Implies(left=left, right=statement(consequent, context))


def _weather(clause: str) -> bool:
    try:
        return individuals.statement(clause, Context()) is not None
    except ParseError:
        return False


def _clauses(text: str, context: Context) -> Formula | None:
    """``tom is a cat and jerry is a mouse`` / ``p or q``: a split where both sides are whole sentences."""
    for joiner, make in ((" or ", Or), (" and ", And)):
        parts = text.split(joiner)
        for cut in range(1, len(parts)):
            left, right = joiner.join(parts[:cut]), re.sub(r"^that ", "", joiner.join(parts[cut:]))
            try:
                formulas = [statement(left, context), statement(right, context)]
            except ParseError:
                continue
            return make(args=formulas)
    return None


def question(text: str, context: Context) -> Formula | None:
    """A yes/no question (lower case, without ``?``) as the claim it asks about, or None."""
    match = re.fullmatch(
        r"(?:is it (?:true|the case)|does it follow|can we conclude|must it be true|is it necessarily true) that (.+)",
        text,
    )
    if match:
        return statement(match.group(1), context)
    for ask in (logic.question, individuals.question):
        claim = ask(text, context)
        if claim is not None:
            return claim
    return None
