"""Bad input gets an OpenAI-style error with the right status and a clear message; nothing crashes."""

from __future__ import annotations

import json
from typing import Any

import pytest

LIMITS = {"limits": {"max_body_bytes": 4096, "max_messages": 3, "max_content_chars": 200}}


ASSUMING = "```smt2\n(declare-const p Bool)\n(check-sat-assuming (p (not p)))\n```"
LATE_ASSERT = "```smt2\n(check-sat)\n(assert false)\n```"


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
        # the verdict is for every assertion, and these scripts asked something else (SAT and UNSAT came back)
        ("smt2 assumptions", chat(ASSUMING), 400, "invalid_formal_input", "check-sat-assuming"),
        ("smt2 assert after check-sat", chat(LATE_ASSERT), 400, "invalid_formal_input", "after its (check-sat)"),
        (
            "asp 33-bit integer",
            chat("```asp\np(3000000000).\n```"),
            400,
            "invalid_formal_input",
            "32-bit",
        ),  # p(-1294967296)
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


def body_with(**fields: Any) -> bytes:
    return json.dumps({"model": "t", "messages": [{"role": "user", "content": "Solve 3x + 5 = 20"}], **fields}).encode()


def parts(*items: Any) -> bytes:
    return json.dumps({"model": "t", "messages": [{"role": "user", "content": list(items)}]}).encode()


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        (body_with(max_tokens="abc"), "max_tokens", "integer of at least 1"),  # was a 500 (the budget estimate)
        (body_with(max_tokens=[1]), "max_tokens", "integer of at least 1"),
        (body_with(max_tokens=-1000000000), "max_tokens", "integer of at least 1"),  # a negative cost reservation
        (body_with(max_tokens=0), "max_tokens", "integer of at least 1"),
        (body_with(temperature=5), "temperature", "from 0 to 2"),
        (body_with(temperature="hot"), "temperature", "from 0 to 2"),
        (body_with(top_p=-1), "top_p", "from 0 to 1"),
        (body_with(n=3), "n", "n must be 1"),
        (body_with(stop={"a": 1}), "stop", "list of strings"),
        (body_with(user={"id": 1}), "user", "must be a string"),
        (body_with(seed="x"), "seed", "integer"),
        (parts("a", 1), "messages[0].content[0]", "must be an object"),  # was a 500 (ValidationError)
        (parts({"type": "text", "text": {"x": 1}}), "messages[0].content[0].text", "must be a string"),
        (parts({"type": "text", "text": "?"}, {"type": "image_url"}), "messages[0].content[1]", "only text parts"),
    ],
)
def test_wrong_optional_fields_and_content_parts_are_a_400_naming_the_field(
    start_runtime: Any, body: bytes, param: str, fragment: str
) -> None:
    runtime = start_runtime()
    got, payload, _ = runtime.post("/v1/chat/completions", body)
    assert got == 400, payload
    assert payload["error"]["param"] == param
    assert payload["error"]["code"] == "invalid_request"
    assert fragment in payload["error"]["message"]
    got, payload, _ = runtime.post("/v1/chat/completions", body_with(stream=None, temperature=None, n=1, stop=["x"]))
    assert got == 200, payload  # null is unset, as in OpenAI's API; the next good request is served


def test_asp_input_cannot_include_a_file_and_deep_symil_is_a_400(start_runtime: Any, tmp_path: Any) -> None:
    secret = tmp_path / "secret.lp"
    secret.write_text("secret_token_abc.\n")
    runtime = start_runtime()
    for block in (f'```asp\n#include "{secret}".\n```', f'```asp\na.\n%* *%#include\n"{secret}".\n```'):
        got, payload, _ = runtime.post("/v1/chat/completions", chat(block))
        assert got == 400, payload  # clingo read the file and answered its facts: "SAT: 1 answer set(s): {secret...}"
        assert payload["error"]["code"] == "invalid_formal_input"
        assert "#include" in payload["error"]["message"]
        assert "secret_token" not in json.dumps(payload)
    got, payload, _ = runtime.post("/v1/chat/completions", chat("```symil\n" + "[" * 3000 + "]" * 3000 + "\n```"))
    assert got == 400, payload  # was a 500 (RecursionError)
    assert payload["error"]["code"] == "invalid_formal_input"
