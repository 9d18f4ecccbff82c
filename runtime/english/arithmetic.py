"""Numbers in controlled English: algebraic expressions, worded comparisons and equalities."""

from __future__ import annotations

import re
from fractions import Fraction

from evolved_runtime.english.words import RESERVED, number, symbol
from evolved_runtime.symil.models import And, Arith, Compare, Formula, Not, Relation, Term

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([a-z][a-z0-9_]*)|(<=|>=|!=|==|[-+*/()=<>]))")

REL_SYMBOLS: dict[str, Relation] = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

# worded relations, longest first; value: relation, or None for words that are not relations
_REL_WORDS: list[tuple[str, Relation]] = [
    ("is greater than or equal to", ">="),
    ("is more than or equal to", ">="),
    ("is less than or equal to", "<="),
    ("is smaller than or equal to", "<="),
    ("is not greater than", "<="),
    ("is not more than", "<="),
    ("is not larger than", "<="),
    ("is not bigger than", "<="),
    ("is not less than", ">="),
    ("is not smaller than", ">="),
    ("is not equal to", "!="),
    ("does not equal", "!="),
    ("is different from", "!="),
    ("is no more than", "<="),
    ("is no less than", ">="),
    ("is greater than", ">"),
    ("is more than", ">"),
    ("is larger than", ">"),
    ("is bigger than", ">"),
    ("is higher than", ">"),
    ("is above", ">"),
    ("is less than", "<"),
    ("is smaller than", "<"),
    ("is lower than", "<"),
    ("is below", "<"),
    ("is at least", ">="),
    ("is at most", "<="),
    ("is equal to", "="),
    ("is the same as", "="),
    ("equals", "="),
    ("is", "="),
]

# comparative adjectives between individuals: word -> (attribute, relation)
COMPARATIVES: dict[str, tuple[str, Relation]] = {
    "taller": ("height", ">"), "shorter": ("height", "<"),
    "older": ("age", ">"), "younger": ("age", "<"),
    "heavier": ("weight", ">"), "lighter": ("weight", "<"),
    "faster": ("speed", ">"), "slower": ("speed", "<"),
    "richer": ("wealth", ">"), "poorer": ("wealth", "<"),
    "longer": ("length", ">"),
    "hotter": ("temperature", ">"), "warmer": ("temperature", ">"),
    "colder": ("temperature", "<"), "cooler": ("temperature", "<"),
    "stronger": ("strength", ">"), "weaker": ("strength", "<"),
    "cheaper": ("price", "<"), "costlier": ("price", ">"),
    "earlier": ("time", "<"), "later": ("time", ">"),
}  # fmt: skip


class ParseError(ValueError):
    """The text is not in the accepted grammar."""


def parse_expression(text: str) -> Term:
    """An infix expression: numbers, variables, + - * /, parentheses, implicit products (``3x``)."""
    text = _words_to_ops(text)
    tokens = _tokens(text)
    parser = _ExprParser(tokens)
    term = parser.expr()
    if parser.pos != len(tokens):
        raise ParseError(f"unexpected {tokens[parser.pos]!r}")
    return term


def _words_to_ops(text: str) -> str:
    text = re.sub(r"\bthe sum of (\S+) and (\S+)", r"(\1 + \2)", text)
    text = re.sub(r"\bthe difference (?:of|between) (\S+) and (\S+)", r"(\1 - \2)", text)
    text = re.sub(r"\bthe product of (\S+) and (\S+)", r"(\1 * \2)", text)
    # "3 more than x" is x + 3; the amount must be a number ("y greater than 7" is no term)
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?) (?:more|greater) than (.+)", r"(\2) + \1", text)
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?) (?:less|fewer|smaller) than (.+)", r"(\2) - \1", text)
    text = re.sub(r"\btwice\b", "2 *", text)
    text = re.sub(r"\bdouble(?: of)?\b", "2 *", text)
    text = re.sub(r"\btriple(?: of)?\b", "3 *", text)
    text = re.sub(r"\bhalf of\b", "0.5 *", text)
    text = re.sub(r"\bmultiplied by\b|\btimes\b", "*", text)
    text = re.sub(r"\bdivided by\b", "/", text)
    text = re.sub(r"\bplus\b", "+", text)
    return re.sub(r"\bminus\b", "-", text)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ParseError(f"cannot read {text[pos:]!r}")
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return tokens


class _ExprParser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ParseError("expression ends too early")
        self.pos += 1
        return token

    def expr(self) -> Term:
        terms = [self.product()]
        ops: list[str] = []
        while self.peek() in ("+", "-"):
            ops.append(self.take())
            terms.append(self.product())
        result = terms[0]
        for op, term in zip(ops, terms[1:], strict=True):
            result = Arith(op="+" if op == "+" else "-", args=[result, term])
        return result

    def product(self) -> Term:
        result = self.unary()
        while True:
            token = self.peek()
            if token == "*":
                self.take()
                result = Arith(op="*", args=[result, self.unary()])
            elif token == "/":
                self.take()
                divisor = self.unary()
                if not isinstance(divisor, int | float) or divisor == 0:
                    raise ParseError("division only by a non-zero number")
                result = Arith(op="*", args=[result, _inv(divisor)])
            elif token is not None and (token == "(" or _is_name(token) or number(token) is not None):
                result = Arith(op="*", args=[result, self.unary()])  # implicit product: 3x, 2(x + 1)
            else:
                return result

    def unary(self) -> Term:
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return -inner if isinstance(inner, int | float) else Arith(op="-", args=[inner])
        if self.peek() == "+":
            self.take()
        return self.atom()

    def atom(self) -> Term:
        token = self.take()
        if token == "(":
            inner = self.expr()
            if self.take() != ")":
                raise ParseError("missing )")
            return inner
        value = number(token)
        if value is not None:
            return value
        if _is_name(token):
            name = symbol(token)
            if name is None:
                raise ParseError(f"bad name {token!r}")
            return name
        raise ParseError(f"unexpected {token!r}")


def _inv(value: int | float) -> float | int:
    """``1 / value`` as a number SymIL holds exactly: a division by 3 (or 0.3) has none, and
    0.3333333333333333 made "x / 3 = 1" answer x = 10000000000000000/3333333333333333, the only
    solution (float products round: 0.3333333333333333 * 3 == 1.0, so compare as fractions)."""
    inverse = 1 / value
    if Fraction(repr(inverse)) * Fraction(repr(value)) != 1:
        raise ParseError("division by a number with no exact decimal inverse")
    return inverse


def _is_name(token: str) -> bool:
    return bool(re.fullmatch(r"[a-z][a-z0-9_]*", token)) and (len(token) == 1 or token not in RESERVED)


def parse_relation_chain(text: str) -> Formula:
    """``3x + 5 = 20``, ``1 < x <= 5``, ``x != y`` (symbols only)."""
    parts = re.split(r"(<=|>=|!=|==|=|<|>)", text)
    if len(parts) < 3:
        raise ParseError("no relation")
    terms = [parse_expression(p) for p in parts[0::2]]
    rels = [REL_SYMBOLS[r] for r in parts[1::2]]
    comparisons: list[Formula] = [Compare(op=rel, left=terms[i], right=terms[i + 1]) for i, rel in enumerate(rels)]
    return comparisons[0] if len(comparisons) == 1 else And(args=comparisons)


def parse_worded_comparison(text: str) -> Formula:
    """``y is 3 more than x``, ``a is less than b``, ``x equals 5``, ``Alice is taller than Bob``."""
    if re.search(r"[<>=]", text):
        return parse_relation_chain(text)
    match = re.fullmatch(r"(?:the )?(\w+) is (not )?(?:(\w+er) than|as (\w+) as) (?:the )?(\w+)", text)
    if match:
        subject, negated, comparative, equal_adj, other = match.groups()
        found = _comparative(comparative, equal_adj)
        if found is not None:
            attribute, rel = found
            left, right = f"{attribute}_{subject}", f"{attribute}_{other}"
            compare = Compare(op=rel, left=_name(left), right=_name(right))
            return Not(arg=compare) if negated else compare
    for words, rel in _REL_WORDS:
        pattern = rf"(.+?) {words} (.+)" if words != "equals" else r"(.+?) equals (.+)"
        match = re.fullmatch(pattern, text)
        if match:
            left_text, right_text = match.groups()
            numeric = has_numbers(right_text) or OPERATOR_WORDS.search(right_text)
            if words in ("is", "equals") and not numeric and (words == "is" or not _is_name(right_text)):
                raise ParseError("not a number")
            return Compare(op=rel, left=parse_expression(left_text), right=parse_expression(right_text))
    raise ParseError("not a comparison")


_GENERIC = {"greater", "larger", "bigger", "higher", "more", "less", "smaller", "lower", "fewer"}
_BASE_ATTRIBUTE = {
    "tall": "height", "short": "height", "old": "age", "young": "age", "heavy": "weight",
    "light": "weight", "fast": "speed", "slow": "speed", "rich": "wealth", "poor": "wealth",
    "long": "length", "hot": "temperature", "warm": "temperature", "cold": "temperature",
    "cool": "temperature", "strong": "strength", "weak": "strength", "cheap": "price",
}  # fmt: skip


def _comparative(comparative: str | None, equal_adj: str | None) -> tuple[str, Relation] | None:
    """Attribute and relation for ``taller than`` / ``as tall as``; None for generic number words."""
    if comparative is not None:
        if comparative in _GENERIC:
            return None
        return COMPARATIVES.get(comparative, (_adjective_stem(comparative[:-2]), ">"))
    assert equal_adj is not None
    return _BASE_ATTRIBUTE.get(equal_adj, _adjective_stem(equal_adj)), "="


def _adjective_stem(word: str) -> str:
    if len(word) > 2 and word[-1] == word[-2]:
        word = word[:-1]
    if word.endswith("i"):
        word = word[:-1] + "y"
    return word[:-1] if word.endswith("e") and len(word) > 2 else word


def _name(text: str) -> str:
    name = symbol(text)
    if name is None:
        raise ParseError(f"bad name {text!r}")
    return name


OPERATOR_WORDS = re.compile(
    r"\b(?:plus|minus|times|twice|double|triple|half|sum|difference|product|divided|multiplied)\b"
    r"|\b(?:more|less|fewer|greater|smaller) than\b"
)


def has_numbers(text: str) -> bool:
    return bool(re.search(r"\d|[<>=]", text))


def declared_integers(text: str) -> list[str] | None:
    """``x is an integer`` / ``x and y are integers`` / ``x, y are whole numbers``."""
    match = re.fullmatch(r"(.+?) (?:is an|are|is a|are all) (?:integers?|whole numbers?|natural numbers?)", text)
    if not match:
        return None
    names = re.split(r",? and |, ", match.group(1))
    out = [symbol(n) for n in names]
    if any(n is None or not _is_name(n) for n in out):
        return None
    return [n for n in out if n is not None]


_NUMERIC_WORDS = re.compile(
    r"(?<![a-z_])\d|[<>=]|\b(?:than|equal|equals|at least|at most|the same as|plus|minus|times|twice|as \w+ as)\b"
)


def looks_numeric(text: str) -> bool:
    """Whether a sentence is about numbers (digits, relations, comparatives, arithmetic words)."""
    return bool(_NUMERIC_WORDS.search(text) or OPERATOR_WORDS.search(text))
