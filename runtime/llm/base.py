"""The provider interface of the LLM path: one chat call, plain or streamed, and its error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from evolved_runtime.errors import ServiceError


@dataclass(slots=True)
class LLMReply:
    """A complete answer, its token usage in OpenAI's names, who gave it and what it cost."""

    content: str
    model: str
    usage: dict[str, int] = field(default_factory=dict)
    provider: str = ""
    cost_usd: float = 0.0


class LLMError(ServiceError):
    """An upstream failure, already mapped to the OpenAI-style error the caller gets.

    ``retriable``: a timeout, a connection error, a 429 or a 5xx (worth another attempt or the
    next provider); otherwise permanent (the request itself is at fault, or a key is wrong).
    """

    def __init__(
        self, status: int, code: str, message: str, retry_after: str | None = None, *, retriable: bool = False
    ) -> None:
        super().__init__(status, code, message, retry_after=retry_after)
        self.retriable = retriable


class LLMStream:
    """A streamed answer: an async iterator of text deltas; ``usage``, ``provider``, ``model`` and
    ``cost_usd`` are filled in as the stream goes (complete once it has ended)."""

    def __init__(self) -> None:
        self.usage: dict[str, int] = {}
        self.provider = ""
        self.model = ""
        self.cost_usd = 0.0
        self._deltas: AsyncIterator[str] | None = None

    def attach(self, deltas: AsyncIterator[str]) -> LLMStream:
        self._deltas = deltas
        return self

    def __aiter__(self) -> LLMStream:
        return self

    async def __anext__(self) -> str:
        assert self._deltas is not None, "LLMStream.attach() was not called"
        return await self._deltas.__anext__()

    async def aclose(self) -> None:
        close = getattr(self._deltas, "aclose", None)
        if close is not None:
            await close()


class ChatLLM(Protocol):
    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply: ...

    def stream(self, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[str]: ...

    async def close(self) -> None: ...
