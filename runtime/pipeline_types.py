"""What the pipeline takes and returns, its error, and the LLM handle programs get."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from evolved_runtime.errors import ServiceError
from evolved_runtime.llm.base import ChatLLM


@dataclass(slots=True)
class ChatTurn:
    """One message of a chat request, its content as text (built from the validated request)."""

    role: str
    content: str


@dataclass(slots=True)
class EvolvedInfo:
    """What the pipeline did, returned with every answer (the response's ``evolved`` object).

    A plain dataclass: the pipeline sets its fields as it goes, and orjson writes it directly
    (as a pydantic model, its field assignments and dump were a tenth of the chat handler's time).
    ``program_hashes`` is shared between requests: never changed in place.
    """

    tier: int | None = None
    solver: str | None = None
    solvers: list[str] = field(default_factory=list)
    verdict: str | None = None
    agree: bool | None = None
    symil_level: int | None = None
    profile: str | None = None
    formal_input: bool = False
    program_hashes: dict[str, str] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    escalations: list[str] = field(default_factory=list)


@dataclass
class PipelineResult:
    """An answer: ``content`` (complete) or ``deltas`` (a Tier 0 stream), and what produced it."""

    evolved: EvolvedInfo
    content: str | None = None
    deltas: AsyncIterator[str] | None = None
    usage: dict[str, int] = field(default_factory=dict)
    model: str | None = None


class PipelineError(ServiceError):
    """A failure of the pipeline itself (no LLM configured, nothing answerable, bad input)."""


class SyncLLM:
    """The synchronous ``LLMHandle`` translation programs get (they run in a worker thread).

    Each call runs ``ChatLLM.chat`` on the event loop and waits for it; token usage adds up in
    ``usage`` so the response can report it. The call runs in the context of the request that
    built the handle, so the admission stages see its caller: per-key budgets stop a
    translation's LLM calls too, and its cost is the request's.
    """

    def __init__(self, llm: ChatLLM, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self._llm = llm
        self._loop = loop
        self._loop_thread = threading.get_ident()  # built on the loop's thread
        self._context = contextvars.copy_context()  # the request's (its admission ticket)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self.usage: dict[str, int] = {}
        self.calls = 0

    def complete(self, prompt: str, system: str | None = None) -> str:
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("LLMHandle.complete() was called on the event loop's thread; it would deadlock")
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        # the loop schedules the call in a copy of the calling thread's context: enter the request's
        future = self._context.copy().run(asyncio.run_coroutine_threadsafe, self._llm.chat(messages), self._loop)
        try:
            reply = future.result(self._timeout_s)
        except TimeoutError:
            future.cancel()
            raise
        with self._lock:
            self.calls += 1
            for key, value in reply.usage.items():
                self.usage[key] = self.usage.get(key, 0) + value
        return reply.content
