"""Default translation program: controlled English without an LLM (levels 1-2), LLM at level 3.

A program file (loaded by path): it may import only the standard library and evolved_runtime.
"""

from __future__ import annotations

from typing import Any

from evolved_runtime import english
from evolved_runtime.symil.models import Problem


def translate(prompt: str, level: int, hints: dict[str, Any], llm: english.CompletionLLM | None) -> Problem | None:
    """SymIL for ``prompt`` at ``level`` (1 strict, 2 relaxed, 3 LLM), or None if not translatable."""
    return english.translate(prompt, level, hints, llm)
