"""A small real HTTP/1.1 server on 127.0.0.1 for the router's tests, in a thread, that tests steer.

It answers every request with fixed bytes (so bodies can be compared byte for byte) and an
``x-evolved-verdict`` header, and counts requests. It can also close a reused keep-alive
connection when the next request arrives on it without answering (what a worker does when its
keep-alive timer ends just as a request is on its way), and stream an answer in two chunks with a
gate between them that the test opens.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import httptools


@dataclass
class Backend:
    body: bytes = b'{"answer":"primary"}'
    verdict: bytes = b"VALID"
    head: bytes = b""  # more header lines for the answer ("name: value\r\n" each)
    close_reused: bool = False  # close a connection when a second request arrives on it
    hold: bool = False  # answer only once the gate is open
    gate: threading.Event = field(default_factory=threading.Event)  # /stream waits on it between chunks
    requests: int = 0
    last_request: bytes = b""  # method, URL, headers and body of the last request, as received
    reused_closed: int = 0
    gate_opened: bool | None = None  # /stream: whether the gate opened before the wait timed out
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-evolved-tier: 1\r\n"
            b"x-evolved-verdict: %s\r\n%scontent-length: %d\r\n\r\n%s"
            % (self.verdict, self.head, len(self.body), self.body)
        )

    async def held(self, transport: asyncio.Transport) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 20)
        transport.write(self.answer())

    async def stream(self, transport: asyncio.Transport) -> None:
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        first = b"data: first\n\n"
        transport.write(b"%x\r\n%s\r\n" % (len(first), first))
        self.gate_opened = await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 20)
        last = b"data: last\n\ndata: [DONE]\n\n"
        transport.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(last), last))

    def start(self) -> Backend:
        ready = threading.Event()
        backend = self

        class Connection(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport: asyncio.Transport = transport  # type: ignore[assignment]
                self.parser = httptools.HttpRequestParser(self)
                self.answered = 0
                self.url = b""
                self.received: list[bytes] = []

            def data_received(self, data: bytes) -> None:
                self.parser.feed_data(data)

            def on_message_begin(self) -> None:
                self.received = []

            def on_url(self, url: bytes) -> None:
                self.url = url

            def on_header(self, name: bytes, value: bytes) -> None:
                self.received.append(name.lower() + b": " + value + b"\n")

            def on_body(self, body: bytes) -> None:
                self.received.append(body)

            def on_message_complete(self) -> None:
                backend.requests += 1
                method = self.parser.get_method()
                backend.last_request = b"%s %s\n%s" % (method, self.url, b"".join(self.received))
                if backend.close_reused and self.answered:
                    backend.reused_closed += 1
                    self.transport.close()
                    return
                self.answered += 1
                if backend.hold:
                    asyncio.get_running_loop().create_task(backend.held(self.transport))
                elif self.url == b"/stream":
                    asyncio.get_running_loop().create_task(backend.stream(self.transport))
                elif self.url == b"/unframed":  # no length, not chunked: the answer ends with the connection
                    self.transport.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + backend.body)
                    self.transport.close()
                elif method == b"HEAD":
                    answer = backend.answer()
                    self.transport.write(answer[: answer.index(b"\r\n\r\n") + 4])
                else:
                    self.transport.write(backend.answer())

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(loop.create_server(Connection, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(10), "the test backend did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
