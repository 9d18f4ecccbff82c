"""The HTTP protocol: a response's head leaves in the same write as its first body bytes, and an
app with a ``direct`` method answers its requests from uvicorn's request cycle, without ASGI.

The unit tests drive the protocol through a transport that records writes (the I/O seam, as in
uvicorn's own tests); the last test talks to a real `evolved-runtime serve` over a socket.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response, StreamingResponse
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.server import ServerState

from evolved_runtime.http_protocol import HeadWithBodyProtocol, answer_directly, read_body
from tests.runtime.conftest import StartRuntime, wait_until

GET = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class RecordingTransport(asyncio.Transport):
    """Each write call's bytes, in order (``writelines`` counts as one write: one syscall)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.written = asyncio.Event()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        self.written.set()

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(bytes(c) for c in chunks))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def connect(app: App) -> tuple[HeadWithBodyProtocol, RecordingTransport, ServerState]:
    """The protocol serving ``app`` on a new connection."""
    config = Config(app=app, http=HeadWithBodyProtocol, lifespan="off", log_config=None, proxy_headers=False)
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Fri, 04 Dec 2026 00:00:00 GMT")]  # uvicorn's server sets it every second
    protocol = HeadWithBodyProtocol(config=config, server_state=state, app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport, state


async def serve_one(app: App, request: bytes = GET) -> RecordingTransport:
    """Feed one request to the protocol and wait until the app has finished with it."""
    protocol, transport, state = connect(app)
    protocol.data_received(request)
    await asyncio.wait_for(asyncio.gather(*state.tasks), timeout=10)
    return transport


def json_app(body: bytes, status: int = 200) -> App:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-length", str(len(body)).encode())]}
        )
        await send({"type": "http.response.body", "body": body})

    return app


async def test_the_head_and_the_body_of_a_response_leave_in_one_write() -> None:
    transport = await serve_one(json_app(b'{"ok": true}'))
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 12" in head
    assert body == b'{"ok": true}'


async def test_a_streamed_response_sends_its_head_with_the_first_chunk_and_the_rest_as_they_come() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for part in (b"data: 1\n\n", b"data: 2\n\n"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    transport = await serve_one(app)
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\n9\r\ndata: 1\n\n\r\n")
    assert transport.writes[1:] == [b"9\r\ndata: 2\n\n\r\n", b"0\r\n\r\n"]


async def test_a_response_without_a_body_still_sends_its_head() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = await serve_one(app)
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 204 No Content\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\n")


async def test_an_app_that_fails_after_starting_its_response_gets_the_connection_closed() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        raise RuntimeError("the app broke")

    transport = await serve_one(app)
    assert transport.closed
    assert transport.writes == []  # no half response: the held head was never sent alone


async def test_expect_100_continue_is_answered_before_the_body_is_read() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        await json_app(message["body"])(scope, receive, send)

    protocol, transport, state = connect(app)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")

    await asyncio.wait_for(transport.written.wait(), timeout=10)
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    protocol.data_received(b"ping")
    await asyncio.wait_for(asyncio.gather(*state.tasks), timeout=10)
    assert transport.writes[1].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[1].endswith(b"\r\n\r\nping")


class DirectEcho:
    """An app that answers POSTs directly (the body back, or what ``answer`` makes of it) and
    anything else through ASGI (a 404), recording which path each request took."""

    def __init__(self, answer: Callable[[bytes], Awaitable[Response]] | None = None, limit: int = 1 << 20) -> None:
        self.answer = answer
        self.limit = limit
        self.paths: list[str] = []

    def direct(self, cycle: RequestResponseCycle) -> Any:
        if cycle.scope["method"] != "POST":
            return None
        return answer_directly(cycle, self._answer(cycle))

    async def _answer(self, cycle: RequestResponseCycle) -> Response | None:
        self.paths.append("direct")
        body = await read_body(cycle, self.limit)
        if body is None:
            return None
        if len(body) > self.limit:
            return Response(b"too large", status_code=413)
        if self.answer is not None:
            return await self.answer(body)
        return Response(body, media_type="application/json", headers={"x-echo": "yes"})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append("asgi")
        await json_app(b"no", 404)(scope, receive, send)


def post(body: bytes, version: bytes = b"1.1", extra: bytes = b"") -> bytes:
    return b"POST /x HTTP/%s\r\nHost: test\r\nContent-Length: %d\r\n%s\r\n%s" % (version, len(body), extra, body)


async def test_a_direct_answer_is_one_write_with_the_default_headers_and_skips_asgi() -> None:
    app = DirectEcho()
    transport = await serve_one(app, post(b'{"a": 1}'))
    assert app.paths == ["direct"]
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\ndate: " in head  # uvicorn's default headers, as on the ASGI path
    assert b"content-length: 8" in head
    assert b"x-echo: yes" in head
    assert body == b'{"a": 1}'
    assert not transport.closed  # keep-alive

    transport = await serve_one(app, GET)
    assert app.paths[-1] == "asgi"
    assert transport.writes[0].startswith(b"HTTP/1.1 404 Not Found\r\n")


async def test_a_direct_answer_waits_for_a_body_that_arrives_in_pieces() -> None:
    app = DirectEcho()
    protocol, transport, state = connect(app)
    request = post(b"0123456789" * 10)
    for start in range(0, len(request), 7):
        protocol.data_received(request[start : start + 7])
        await asyncio.sleep(0)  # let the handler run between pieces, as reads would
    await asyncio.wait_for(asyncio.gather(*state.tasks), timeout=10)
    assert transport.writes[0].endswith(b"\r\n\r\n" + b"0123456789" * 10)


async def test_a_direct_answer_stops_reading_past_the_limit() -> None:
    app = DirectEcho(limit=16)
    protocol, transport, state = connect(app)
    protocol.data_received(
        b"POST /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + b"a" * 16 + b"\r\n"
    )
    protocol.data_received(b"10\r\n" + b"b" * 16 + b"\r\n")  # the rest never comes
    await asyncio.wait_for(asyncio.gather(*state.tasks), timeout=10)
    assert transport.writes[0].startswith(b"HTTP/1.1 413 ")


async def test_http_1_0_gets_connection_close_and_the_connection_closed() -> None:
    transport = await serve_one(DirectEcho(), post(b"{}", b"1.0"))
    assert b"\r\nconnection: close\r\n" in transport.writes[0]
    assert transport.closed


async def test_pipelined_requests_are_answered_in_order_on_the_direct_path() -> None:
    app = DirectEcho()
    protocol, transport, _ = connect(app)
    protocol.data_received(post(b"first") + post(b"second"))
    await wait_until(lambda: len(transport.writes) == 2)
    assert transport.writes[0].endswith(b"first")
    assert transport.writes[1].endswith(b"second")


async def test_a_direct_handler_that_raises_gets_a_500_and_the_next_request_is_answered() -> None:
    async def fail(body: bytes) -> Response:
        if body == b"boom":
            raise RuntimeError("the handler broke")
        return Response(body)

    app = DirectEcho(fail)
    protocol, transport, _ = connect(app)
    protocol.data_received(post(b"boom"))
    await wait_until(lambda: bool(transport.writes) and transport.writes[-1].endswith(b"Internal Server Error"))
    assert b"HTTP/1.1 500 " in transport.writes[0]
    assert transport.closed  # uvicorn's 500 closes the connection


async def test_a_stream_from_the_direct_path_goes_through_asgi_with_its_head_and_first_chunk_together() -> None:
    async def stream(body: bytes) -> Response:
        async def parts() -> Any:
            yield b"data: 1\n\n"
            yield b"data: 2\n\n"

        return StreamingResponse(parts(), media_type="text/event-stream")

    transport = await serve_one(DirectEcho(stream), post(b"{}"))
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\n9\r\ndata: 1\n\n\r\n")
    assert transport.writes[-1] == b"0\r\n\r\n"


async def test_a_client_that_leaves_before_its_body_arrives_gets_nothing_written() -> None:
    app = DirectEcho()
    protocol, transport, state = connect(app)
    protocol.data_received(b"POST /x HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n0123")
    await wait_until(lambda: app.paths == ["direct"])
    protocol.connection_lost(None)
    await asyncio.wait_for(asyncio.gather(*state.tasks), timeout=10)
    assert transport.writes == []


def chat_request(port: int, content: str, extra: bytes = b"") -> bytes:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]}).encode()
    return b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n" \
        b"Content-Length: %d\r\n%s\r\n%s" % (port, len(body), extra, body)  # fmt: skip


def read_response(stream: Any) -> tuple[bytes, dict[bytes, bytes], bytes]:
    status = stream.readline()
    headers = {}
    while (line := stream.readline()) != b"\r\n":
        name, _, value = line.partition(b":")
        headers[name.lower()] = value.strip()
    return status, headers, stream.read(int(headers[b"content-length"]))


def test_a_real_server_answers_pipelined_chat_requests_in_order(start_runtime: StartRuntime) -> None:
    runtime = start_runtime()
    questions = [f"```smt2\n(declare-const x Int)\n(assert (= (+ x 1) {n}))\n(check-sat)\n(get-model)\n```"
                 for n in (3, 5, 9)]  # fmt: skip
    with socket.create_connection(("127.0.0.1", runtime.port), timeout=30) as sock:
        sock.sendall(b"".join(chat_request(runtime.port, q) for q in questions))
        stream = sock.makefile("rb")
        for n in (3, 5, 9):
            status, headers, body = read_response(stream)
            assert status.startswith(b"HTTP/1.1 200"), body
            assert headers[b"x-evolved-tier"] == b"1"
            assert f"x = {n - 1}" in json.loads(body)["choices"][0]["message"]["content"]


def test_a_real_server_answers_a_chat_request_that_expects_100_continue(start_runtime: StartRuntime) -> None:
    runtime = start_runtime()
    request = chat_request(runtime.port, "```asp\na. b :- a.\n```", b"Expect: 100-continue\r\n")
    head, _, body = request.partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", runtime.port), timeout=30) as sock:
        sock.sendall(head + b"\r\n\r\n")
        stream = sock.makefile("rb")
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(body)
        status, _, answer = read_response(stream)
        assert status.startswith(b"HTTP/1.1 200"), answer
        assert json.loads(answer)["evolved"]["solver"] == "clingo"


def test_a_real_server_answers_keep_alive_requests_on_one_connection(start_runtime: StartRuntime) -> None:
    runtime = start_runtime()
    with socket.create_connection(("127.0.0.1", runtime.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            assert stream.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := stream.readline()) != b"\r\n":
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            assert length > 0
            assert b"ok" in stream.read(length)


def test_a_real_server_answers_head_requests_and_the_next_request_on_the_connection(
    start_runtime: StartRuntime,
) -> None:
    # a HEAD answer has no body write: its held head used to stay held, and the client waited forever
    runtime = start_runtime()
    with socket.create_connection(("127.0.0.1", runtime.port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for path in (b"/health", b"/v1/models", b"/nothing"):
            sock.sendall(b"HEAD %s HTTP/1.1\r\nHost: test\r\n\r\n" % path)
            status = stream.readline()
            assert status.startswith((b"HTTP/1.1 200", b"HTTP/1.1 404", b"HTTP/1.1 405")), (path, status)
            while stream.readline() != b"\r\n":
                pass
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        status, _, body = read_response(stream)
        assert status.startswith(b"HTTP/1.1 200")
        assert json.loads(body)["status"] == "healthy"
        sock.sendall(b"HEAD /v1/models HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        assert stream.readline().startswith(b"HTTP/1.1 405")  # FastAPI's GET routes; the head still arrives
        assert stream.read().endswith(b"connection: close\r\n\r\n")  # then the server closes, with no body


def test_a_request_that_is_not_http_gets_a_400_in_the_api_error_format(start_runtime: StartRuntime) -> None:
    runtime = start_runtime()
    for garbage in (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64,
                    b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nX-Request-ID: a\rb\r\n\r\n"):  # fmt: skip
        with socket.create_connection(("127.0.0.1", runtime.port), timeout=10) as sock:
            sock.sendall(garbage)
            status, headers, body = read_response(sock.makefile("rb"))
            assert status.startswith(b"HTTP/1.1 400")
            assert headers[b"content-type"] == b"application/json"
            assert json.loads(body)["error"]["code"] == "bad_request"
    assert runtime.get("/health")[0] == 200
