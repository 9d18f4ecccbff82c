"""A plain ASGI fast path for POST /v1/chat/completions, in front of FastAPI.

The chat endpoint is the hot path: routing it through FastAPI's router, request object and
middleware stack cost about a fifth of a worker's CPU per request (py-spy, docs/benchmarks.md).
This handler reads the body (with the size limit), calls the same ``chat.handle`` and sends the
Response itself. Every other request goes to the FastAPI app unchanged.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from evolved_runtime.api import chat
from evolved_runtime.api.errors import openai_error
from evolved_runtime.state import RuntimeState

PATH = "/v1/chat/completions"
log = logging.getLogger("evolved_runtime")


class ChatFastPath:
    def __init__(self, app: ASGIApp, state: RuntimeState) -> None:
        self.app = app
        self.state = state
        self.max_bytes = state.config.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await openai_error(405, f"{scope['method']} is not allowed on {PATH}", "method_not_allowed")(
                scope, receive, send
            )
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(value.decode(), scope, receive, send)
                return
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(f"more than {self.max_bytes}", scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        try:
            response = await chat.handle(self.state, b"".join(chunks), request_id)
        except Exception as exc:
            log.exception("unexpected error")
            response = openai_error(500, f"internal error: {type(exc).__name__}", "internal_error", "server_error")
        await response(scope, receive, send)

    async def _too_large(self, size: str, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body is {size} bytes; the limit is {self.max_bytes} bytes"
        await openai_error(413, message, "request_too_large")(scope, receive, send)
