"""The answers the router writes itself (its own paths, and errors in OpenAI's error format)."""

from __future__ import annotations

import orjson

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 405: "Method Not Allowed", 409: "Conflict",
           413: "Content Too Large", 431: "Request Header Fields Too Large", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}  # fmt: skip


def response(status: int, content_type: bytes, body: bytes, keep_alive: bool = True) -> bytes:
    head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n" % (
        status, REASONS.get(status, "Error").encode(), content_type, len(body))  # fmt: skip
    return head + (b"\r\n" if keep_alive else b"connection: close\r\n\r\n") + body


def json_response(status: int, document: object, keep_alive: bool = True) -> bytes:
    return response(status, b"application/json", orjson.dumps(document), keep_alive)


def error_response(status: int, code: str, message: str, keep_alive: bool = True) -> bytes:
    """``{"error": {"message", "type", "code"}}`` like OpenAI's errors (and the worker's)."""
    return json_response(status, {"error": {"message": message, "type": "router_error", "code": code}}, keep_alive)
