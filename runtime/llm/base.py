"""The provider interface of Tier 0: one OpenAI-compatible chat call, plain or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from pydantic import BaseModel, Field

from evolved_runtime.errors import ServiceError


class LLMReply(BaseModel):
    content: str
    model: str
    usage: dict[str, int] = Field(default_factory=dict)


class LLMError(ServiceError):
    """An upstream failure, already mapped to the OpenAI-style error the caller gets."""

    def __init__(self, status: int, code: str, message: str, retry_after: str | None = None) -> None:
        super().__init__(status, code, message, retry_after=retry_after)


class ChatLLM(Protocol):
    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply: ...

    def stream(self, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...
