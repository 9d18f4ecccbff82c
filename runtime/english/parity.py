"""Even, odd and divisible integers, in linear integer arithmetic with fresh helper integers.

"x is divisible by 3" as a premise is ``x = 3k`` (k a fresh integer). As a conclusion it is
``x != 3k + 1 and x != 3k + 2`` with k fresh and free: the conclusion must hold for every k,
so it is refuted exactly when some k gives a remainder, which is what "not divisible" means.
"""

from __future__ import annotations

import re

from evolved_runtime.english.arithmetic import ParseError
from evolved_runtime.english.words import RESERVED, symbol
from evolved_runtime.symil.models import And, Arith, Compare, Formula, Not, Or
from evolved_runtime.symil.wording import HELPER_PREFIX

MAX_DIVISOR = 20
_PROPERTY = re.compile(
    r"(?:the number )?([a-z][a-z0-9_]*) is (not )?(?:an? )?(even|odd|divisible by (\d+)|a multiple of (\d+))(?: number)?"
)


class Helpers:
    """Fresh helper integers (``k_1``, ``k_2``, ...) and the variables that must be integers."""

    def __init__(self) -> None:
        self.integers: set[str] = set()
        self.aux: set[str] = set()

    def fresh(self) -> str:
        name = f"{HELPER_PREFIX}{len(self.aux) + 1}"
        self.aux.add(name)
        self.integers.add(name)
        return name


def _remainder_is(var: str, divisor: int, remainder: int, helper: str) -> Compare:
    multiple = Arith(op="*", args=[divisor, helper])
    right = multiple if remainder == 0 else Arith(op="+", args=[multiple, remainder])
    return Compare(op="=", left=var, right=right)


def _claim(text: str, helpers: Helpers) -> tuple[str, int, bool] | None:
    """(variable, divisor, divisible?) for ``x is even`` / ``x is not divisible by 3``."""
    match = _PROPERTY.fullmatch(text)
    if not match:
        return None
    name, negated, word, by, multiple = match.groups()
    var = symbol(name)
    if var is None or (name in RESERVED and len(name) > 1):
        raise ParseError(f"not a number's name: {name!r}")
    divisor = 2 if word in ("even", "odd") else int(by or multiple)
    if not 2 <= divisor <= MAX_DIVISOR:
        raise ParseError(f"divisibility by {divisor} is not supported")
    divisible = (word != "odd") != bool(negated)
    helpers.integers.add(var)
    return var, divisor, divisible


def premise(text: str, helpers: Helpers) -> Formula | None:
    """``x is even`` as a fact: some integer k has x = 2k (or x = 2k + 1 for odd, and so on)."""
    claim = _claim(text, helpers)
    if claim is None:
        return None
    var, divisor, divisible = claim
    if divisible:
        return _remainder_is(var, divisor, 0, helpers.fresh())
    helper = helpers.fresh()
    return Or(args=[_remainder_is(var, divisor, r, helper) for r in range(1, divisor)])


def conclusion(text: str, helpers: Helpers) -> Formula | None:
    """``x is even`` as a claim: for every integer k, x is not 2k + 1 (see the module docstring)."""
    claim = _claim(text, helpers)
    if claim is None:
        return None
    var, divisor, divisible = claim
    helper = helpers.fresh()
    if divisible:
        return And(args=[Not(arg=_remainder_is(var, divisor, r, helper)) for r in range(1, divisor)])
    return Not(arg=_remainder_is(var, divisor, 0, helper))
