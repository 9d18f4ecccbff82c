"""Preconditions and effects of actions.

- "To drive a car, one needs a license" / "You must have a ticket to board the train" /
  "A voter must be registered to vote": whoever can do the action has the precondition
  (necessary, not sufficient: having a ticket does not let anyone board).
- "Pressing button A activates system B": an effect, between the states the words name
  ("button A is pressed" -> "system B is activated").
"""

from __future__ import annotations

import re

from evolved_runtime.english.individuals import event
from evolved_runtime.english.properties import Context, Pred, kind_atom, predicate, verb_phrase
from evolved_runtime.english.words import singular
from evolved_runtime.symil.models import And, ForAll, Formula, Implies

X = "x_"
_ANYONE = r"(?:one|you|a person|people|someone|anyone|everyone|a (\w+)|an (\w+)|(\w+s))"
_NEED = r"(must|needs?)"


def _requirement(modal: str, text: str, context: Context) -> Pred:
    """``must be registered`` / ``must wear goggles`` / ``needs a license`` (to have one)."""
    if text.startswith("be "):
        return predicate(text[3:], context)
    if modal == "must" or re.match(r"(?:have|has) ", text):
        return verb_phrase(text, context)
    return verb_phrase(f"have {text}", context)


def statement(text: str, context: Context) -> Formula | None:
    match = re.fullmatch(rf"(?:to|in order to) (.+?),? {_ANYONE} {_NEED} (.+)", text)
    if match:
        action, kind_a, kind_b, kind_c, modal, needed = match.groups()
        return _precondition(action, kind_a or kind_b or kind_c, modal, needed, context)
    match = re.fullmatch(rf"{_ANYONE} {_NEED} (.+?) (?:in order )?to (.+)", text)
    if match:
        kind_a, kind_b, kind_c, modal, needed, action = match.groups()
        return _precondition(action, kind_a or kind_b or kind_c, modal, needed, context)
    match = re.fullmatch(r"(\w+ing) ((?:the )?\w+) (\w+s) ((?:the )?\w+)", text)
    if match:
        cause, thing, effect, other = match.groups()
        return Implies(left=event(cause, thing, context), right=event(effect, other, context))
    return None


def _precondition(action: str, kind: str | None, modal: str, needed: str, context: Context) -> Formula | None:
    if action.startswith("be "):  # "a block must be clear to be moved": a requirement of logic
        return None
    can = verb_phrase(action, context)
    need = _requirement(modal, needed, context)
    left = can(X)
    if kind is not None and singular(kind) not in ("person", "one", "thing", "people"):
        left = And(args=[kind_atom(kind, context)(X), left])
    return ForAll(vars=[X], body=Implies(left=left, right=need(X)))
