"""Controlled English -> SymIL, without an LLM (levels 1-2) or with one (level 3)."""

from __future__ import annotations

from typing import Any

from evolved_runtime.english.llm_translate import CompletionLLM, translate_with_llm
from evolved_runtime.english.parser import parse
from evolved_runtime.symil.models import Problem

__all__ = ["CompletionLLM", "parse", "translate"]


def translate(
    prompt: str, level: int, hints: dict[str, Any] | None = None, llm: CompletionLLM | None = None
) -> Problem | None:
    """SymIL for ``prompt`` at ``level``: 1 strict grammar, 2 relaxed grammar, 3 LLM (None without one).

    None means "cannot translate with confidence at this level"; nothing is guessed.
    """
    if level <= 2:
        return parse(prompt, level=max(level, 1))
    if llm is None:
        return None
    return translate_with_llm(prompt, llm)
