"""Level 3 translation: ask an LLM for SymIL JSON, then validate it like any formal input."""

from __future__ import annotations

import functools
import json
import re
from typing import Protocol

from evolved_runtime.symil.formal import FormalInputError, parse_symil
from evolved_runtime.symil.models import Problem
from evolved_runtime.symil.schema import symil_schema


class CompletionLLM(Protocol):
    """What a translation needs from an LLM (evolved_runtime.programs.protocols.LLMHandle fits)."""

    def complete(self, prompt: str, system: str | None = None) -> str: ...


_INSTRUCTIONS = """You translate a reasoning question into SymIL, a JSON language for logic and arithmetic.
Reply with one JSON object only, in a ```json fenced block, valid against this JSON schema:
{schema}
Rules: premises are the given facts and rules; "conclusion" is the claim the question asks about
(leave it out for "solve"/"find" problems). Use forall/exists with "implies"/"and" for "all"/"some",
lower-case names, and numeric variables (with "variables" types) for quantities.
If the question cannot be expressed in SymIL, reply with {{}}."""


@functools.cache
def system_prompt() -> str:
    return _INSTRUCTIONS.format(schema=json.dumps(symil_schema(), separators=(",", ":")))


_JSON_BLOCK = re.compile(r"```(?:json|symil)?\s*\n(.*?)```", re.DOTALL)


def translate_with_llm(prompt: str, llm: CompletionLLM) -> Problem | None:
    """The LLM's SymIL for ``prompt``; None if it declines or replies with invalid SymIL."""
    reply = llm.complete(prompt, system=system_prompt())
    match = _JSON_BLOCK.search(reply)
    body = match.group(1) if match else reply[reply.find("{") : reply.rfind("}") + 1]
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not data:
        return None
    try:
        return parse_symil(data)
    except FormalInputError:
        return None
