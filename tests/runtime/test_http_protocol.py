"""The HTTP protocol: a response's head leaves in the same write as its first body bytes.

The unit tests drive the protocol through a transport that records writes (the I/O seam, as in
uvicorn's own tests); the last test talks to a real `evolved-runtime serve` over a socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from evolved_runtime.http_protocol import HeadWithBodyProtocol
from tests.runtime.conftest import StartRuntime

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
    config = Config(app=app, http=HeadWithBodyProtocol, lifespan="off", log_config=None)
    config.load()
    state = ServerState()
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
