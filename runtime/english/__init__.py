"""Controlled English -> SymIL, without an LLM (levels 1-2) or with one (level 3)."""

from __future__ import annotations

from typing import Any

from evolved_runtime.english.llm_translate import CompletionLLM, translate_with_llm
from evolved_runtime.english.parser import parse
from evolved_runtime.english.soundness import unconnected
from evolved_runtime.symil.models import Problem

__all__ = ["CompletionLLM", "parse", "translate"]


def translate(
    prompt: str, level: int, hints: dict[str, Any] | None = None, llm: CompletionLLM | None = None
) -> Problem | None:
    """SymIL for ``prompt`` at ``level``: 1 strict grammar, 2 relaxed grammar, 3 LLM (None without one).

    None means "cannot translate with confidence at this level"; nothing is guessed. An LLM's SymIL
    whose conclusion mentions a predicate, individual or number no premise does is refused too.
    """
    if level <= 2:
        return parse(prompt, level=max(level, 1))
    if llm is None:
        return None
    problem = translate_with_llm(prompt, llm)
    if problem is not None and unconnected(problem):
        return None  # the LLM's conclusion talks about what its premises do not: not a faithful reading
    return problem
