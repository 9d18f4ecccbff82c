"""A plain ASGI fast path for POST /v1/chat/completions, in front of FastAPI.

The chat endpoint is the hot path: routing it through FastAPI's router, request object and
middleware stack cost about a fifth of a worker's CPU per request (py-spy, docs/benchmarks.md).
This handler reads the body (with the size limit), calls the same ``chat.handle`` and sends the
Response itself. Every other request goes to the FastAPI app unchanged.

Under ``evolved_runtime.http_protocol`` (the server's protocol) the chat request skips ASGI as
well: ``direct`` answers it from uvicorn's request cycle. A request that expects
``100 Continue`` takes the ASGI path, whose ``receive`` sends the interim answer.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from evolved_runtime.api import chat
from evolved_runtime.api.errors import openai_error
from evolved_runtime.http_protocol import answer_directly, read_body
from evolved_runtime.state import RuntimeState

PATH = "/v1/chat/completions"
log = logging.getLogger("evolved_runtime")


class ChatFastPath:
    def __init__(self, app: ASGIApp, state: RuntimeState) -> None:
        self.app = app
        self.state = state
        self.max_bytes = state.config.limits.max_body_bytes
        self.user_header = state.config.limits.user_header.lower().encode("latin-1")

    def direct(self, cycle: RequestResponseCycle) -> Coroutine[Any, Any, None] | None:
        scope = cycle.scope
        if scope["path"] != PATH or scope["method"] != "POST" or cycle.waiting_for_100_continue:
            return None
        return answer_directly(cycle, self._answer_cycle(cycle))

    async def _answer_cycle(self, cycle: RequestResponseCycle) -> Response | None:
        too_large, heads = self._scan(cycle.scope["headers"])
        if too_large is not None:
            return self._too_large(too_large)
        body = await read_body(cycle, self.max_bytes)
        if body is None:
            return None
        if len(body) > self.max_bytes:
            return self._too_large(f"more than {self.max_bytes}")
        return await self._answer(body, heads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await openai_error(405, f"{scope['method']} is not allowed on {PATH}", "method_not_allowed")(
                scope, receive, send
            )
            return
        too_large, heads = self._scan(scope["headers"])
        if too_large is not None:
            await self._too_large(too_large)(scope, receive, send)
            return
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(f"more than {self.max_bytes}")(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        response = await self._answer(b"".join(chunks), heads)
        await response(scope, receive, send)

    def _scan(self, headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, chat.Heads]:
        """(the declared body size if it is over the limit, what the admission stages read)."""
        too_large = None
        heads = chat.Heads()
        for name, value in headers:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    too_large = value.decode()
            elif name == b"x-request-id":
                heads.request_id = value.decode("latin-1")
            elif name == b"authorization":
                heads.authorization = value.decode("latin-1")
            elif name == self.user_header:
                heads.user = value.decode("latin-1")
            elif name == b"cache-control":
                heads.no_cache = b"no-cache" in value or b"no-store" in value
        return too_large, heads

    async def _answer(self, body: bytes, heads: chat.Heads) -> Response:
        try:
            return await chat.handle(self.state, body, heads)
        except Exception as exc:
            log.exception("unexpected error")
            return openai_error(500, f"internal error: {type(exc).__name__}", "internal_error", "server_error")

    def _too_large(self, size: str) -> Response:
        message = f"request body is {size} bytes; the limit is {self.max_bytes} bytes"
        return openai_error(413, message, "request_too_large")
