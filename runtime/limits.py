"""Request-size limits: a pure ASGI middleware for the body size (413) and checks for chat requests (400)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evolved_runtime.config import LimitsConfig


def error_body(message: str, type_: str, code: str, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "code": code, "param": param}})


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Answers 413 when Content-Length or the bytes received exceed the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send, size: str) -> None:
        body = error_body(
            f"request body is {size} bytes; the limit is {self.max_bytes} bytes",
            "invalid_request_error",
            "request_too_large",
        )
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send, value.decode())
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await self._reject(send, f"more than {self.max_bytes}")


def check_messages(messages: list[Any], limits: LimitsConfig) -> str | None:
    """A problem with the messages (count, size), as a message for a 400, or None."""
    if len(messages) > limits.max_messages:
        return f"too many messages: {len(messages)}; the limit is {limits.max_messages}"
    for i, message in enumerate(messages):
        if len(message.content) > limits.max_content_chars:
            return (
                f"messages[{i}].content has {len(message.content)} characters; the limit is {limits.max_content_chars}"
            )
    return None
