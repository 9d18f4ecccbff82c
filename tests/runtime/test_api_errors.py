"""Bad input gets an OpenAI-style error with the right status and a clear message; nothing crashes."""

from __future__ import annotations

import json
from typing import Any

import pytest

LIMITS = {"limits": {"max_body_bytes": 4096, "max_messages": 3, "max_content_chars": 200}}


def chat(content: str, n: int = 1) -> bytes:
    return json.dumps({"model": "t", "messages": [{"role": "user", "content": content}] * n}).encode()


@pytest.mark.parametrize(
    ("name", "body", "status", "code", "fragment"),
    [
        ("invalid JSON", b"{not json", 400, "invalid_json", "not valid JSON"),
        ("no messages", b'{"model": "t", "messages": []}', 400, "invalid_request", "messages"),
        ("messages missing", b'{"model": "t"}', 400, "invalid_request", "messages"),
        ("too many messages", chat("hi", 4), 400, "invalid_request", "too many messages: 4; the limit is 3"),
        ("content too long", chat("x" * 201), 400, "invalid_request", "the limit is 200"),
        ("body too large", chat("y" * 5000), 413, "request_too_large", "the limit is 4096 bytes"),
        (
            "no user message",
            b'{"model": "t", "messages": [{"role": "system", "content": "s"}]}',
            400,
            "no_user_message",
            "role 'user'",
        ),
        ("broken formal input", chat("```symil\n{not json}\n```"), 400, "invalid_formal_input", ""),
    ],
)
def test_bad_requests_get_openai_style_errors(
    start_runtime: Any, name: str, body: bytes, status: int, code: str, fragment: str
) -> None:
    runtime = start_runtime(LIMITS)
    got, payload, _ = runtime.post("/v1/chat/completions", body)
    assert got == status, payload
    error = payload["error"]
    assert error["code"] == code
    assert fragment in error["message"]
    assert error["type"] in ("invalid_request_error",)
    assert runtime.get("/health")[0] == 200


def test_unknown_routes_and_methods_are_openai_style_404_and_405(start_runtime: Any) -> None:
    runtime = start_runtime()
    status, body = runtime.get("/v1/nothing")
    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"
    status, body = runtime.get("/v1/chat/completions")
    assert status == 405
    assert json.loads(body)["error"]["code"] == "method_not_allowed"
