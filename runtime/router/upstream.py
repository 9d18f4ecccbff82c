"""Connections to the workers: an asyncio Protocol per connection, a keep-alive pool per endpoint.

A connection carries one request at a time. It parses the answer with httptools only to learn
its status, the worker's ``x-evolved-*`` headers and where it ends; the bytes themselves go on
to the request's :class:`Receiver` as they arrive (the proxy writes them to the client
unchanged, so a chunked or SSE answer streams through chunk by chunk).

Idle keep-alive connections wait in a per-endpoint pool, newest first. A worker may close an
idle connection at any time (uvicorn after its keep-alive timeout): the pool drops a connection
when it sees it close, drops connections idle longer than ``idle_timeout_s`` before using them,
and a request whose reused connection closes before any byte of the answer is sent again on a
fresh connection by the proxy (``reused`` tells it) rather than failing the way a client of
LiteLLM does ("Cannot write to closing transport" after an idle gap).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import httptools

from evolved_runtime.router.table import Address


class Receiver(Protocol):
    """What a connection reports to the request it carries."""

    def on_header(self, name: bytes, value: bytes) -> None: ...
    def on_head(self, status: int) -> bool: ...  # True: this answer has no body (an answer to HEAD)
    def on_data(self, data: bytes) -> None: ...
    def on_done(self, connection: Connection) -> None: ...
    def on_lost(self, connection: Connection, answered: bool) -> None: ...


class Connection(asyncio.Protocol):
    __slots__ = ("answered", "closed", "complete", "framed", "head_done", "head_only", "idle_since", "keep_alive",
                 "parser", "pool", "receiver", "reused", "transport")  # fmt: skip

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.receiver: Receiver | None = None
        self.answered = False  # a byte of the current answer arrived
        self.complete = False
        self.head_only = False  # the answer ended with its head (HEAD): the parser would wait for a body
        self.keep_alive = False  # the worker keeps the connection after this answer (known from its head)
        self.head_done = False
        self.framed = False  # the answer has a content-length or is chunked (else it ends when the connection does)
        self.closed = False
        self.reused = False  # the current request is not the connection's first
        self.idle_since = 0.0

    # request side

    def send(self, receiver: Receiver, request: bytes) -> None:
        assert self.transport is not None
        self.receiver = receiver
        self.answered = self.head_done = self.framed = False
        self.transport.write(request)

    def abort(self) -> None:
        """Give the connection up mid-request (client gone, timed out): it is never reused."""
        self.receiver = None
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        receiver = self.receiver
        if receiver is None:  # nothing asked: a broken or confused worker
            self.abort()
            return
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.abort()
            receiver.on_lost(self, True)
            return
        receiver.on_data(data)
        if self.complete and self.receiver is receiver:
            self.complete = False
            self.receiver = None
            if self.keep_alive and not self.head_only:
                self.pool.release(self)
            else:
                self.closed = True
                assert self.transport is not None
                self.transport.close()
            receiver.on_done(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        receiver, self.receiver = self.receiver, None
        if receiver is not None and self.head_done and not self.framed and not self.complete:
            receiver.on_done(self)  # an answer without framing ends with its connection: complete
        elif receiver is not None:
            receiver.on_lost(self, self.answered)
        else:
            self.pool.forget(self)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) in (14, 17) and name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True
        if self.receiver is not None:
            self.receiver.on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_done = True
        self.keep_alive = self.parser.should_keep_alive()  # only meaningful until the message completes
        if self.receiver is not None and self.receiver.on_head(self.parser.get_status_code()):
            self.complete = self.head_only = True

    def on_message_complete(self) -> None:
        self.complete = True


class Pool:
    """Keep-alive connections to one endpoint, newest first."""

    def __init__(self, address: Address, connect_timeout_s: float, idle_timeout_s: float, max_idle: int) -> None:
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.max_idle = max_idle
        self.idle: list[Connection] = []
        self.closed = False  # the endpoint left the table: connections that come back are closed
        self.loop = asyncio.get_running_loop()

    def take(self) -> Connection | None:
        """An idle connection to use, or None (open one with :meth:`connect`)."""
        idle = self.idle
        while idle:
            connection = idle.pop()
            if connection.closed or connection.transport is None or connection.transport.is_closing():
                continue
            if self.loop.time() - connection.idle_since > self.idle_timeout_s:
                connection.abort()
                continue
            connection.reused = True
            return connection
        return None

    async def connect(self) -> Connection:
        host, port = self.address
        _, connection = await asyncio.wait_for(
            self.loop.create_connection(lambda: Connection(self), host, port), self.connect_timeout_s
        )
        return connection

    def release(self, connection: Connection) -> None:
        if self.closed or len(self.idle) >= self.max_idle:
            connection.closed = True
            assert connection.transport is not None
            connection.transport.close()
            return
        connection.idle_since = self.loop.time()
        self.idle.append(connection)

    def forget(self, connection: Connection) -> None:
        """An idle connection closed (the worker's keep-alive ended, or it went away)."""
        if connection in self.idle:
            self.idle.remove(connection)

    def close(self) -> None:
        self.closed = True
        for connection in self.idle:
            connection.abort()
        self.idle.clear()
