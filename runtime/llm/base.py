"""The provider interface of Tier 0: one OpenAI-compatible chat call, plain or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from pydantic import BaseModel, Field


class LLMReply(BaseModel):
    content: str
    model: str
    usage: dict[str, int] = Field(default_factory=dict)


class LLMError(Exception):
    """An upstream failure, already mapped to the OpenAI-style error the caller gets."""

    def __init__(self, status: int, code: str, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class ChatLLM(Protocol):
    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply: ...

    def stream(self, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...
