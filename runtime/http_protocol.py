"""uvicorn's httptools protocol, with a response's head sent in the same write as its first body.

uvicorn writes the status line and headers as soon as the app sends ``http.response.start`` and
the body in a second write. On a TCP connection with ``TCP_NODELAY`` (uvloop's default) that is
two segments per response: the client wakes for the head, then again for the body, and the
server pays the loopback or network path twice. The head here waits for the first body message
(or the end of the response) and both leave in one ``writelines`` (one vectored write), which
is how Go's ``net/http`` buffers a response's header until the first body write.

An ``Expect: 100-continue`` answer is not held: it is written by ``receive`` before the app
starts a response, and only the head written while ``http.response.start`` is handled is held.

An app may also answer some requests without ASGI: if it has a ``direct(cycle)`` method that
returns a coroutine for a request (else None), that coroutine runs in place of the app's ASGI
call, still under uvicorn's own ``run_asgi`` (its task bookkeeping, its 500 on a failure).
It reads the body from uvicorn's request cycle (``read_body``) and writes a finished response
(``write_response``) as one head-and-body write, with the same default headers, keep-alive and
flow-control rules as uvicorn's ``send``, and none of ASGI's per-request message dicts,
header re-validation and wrappers: on the chat hot path, 3-4% less server CPU per request
under load and a lower tail at half load (docs/benchmarks.md). Anything else (streams,
background tasks) goes through ``send``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from starlette.responses import Response, StreamingResponse
from uvicorn._types import ASGI3Application, ASGISendEvent
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from evolved_runtime.limits import error_body


class _HeldHead:
    """Stands in for the transport while one cycle's response head is written: the head is kept,
    and the next write sends it together with that write's data, then the real transport is
    back in place. Everything else (close, is_closing, ...) goes to the real transport."""

    def __init__(self, cycle: RequestResponseCycle, transport: asyncio.Transport) -> None:
        self._cycle = cycle
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._head is None:
            self._head = bytes(data)
            return
        self._cycle.transport = self._transport
        self._transport.writelines((self._head, data))

    def release(self) -> None:
        """Send a held head alone: the response ended without a body write (an answer to HEAD)."""
        self._cycle.transport = self._transport
        if self._head is not None:
            self._transport.write(self._head)

    def close(self) -> None:
        if self._cycle.response_complete:  # a complete head-only answer; else a broken one: never half sent
            self.release()
        self._cycle.transport = self._transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def hold_head(cycle: RequestResponseCycle) -> None:
    """Make ``cycle`` send its response head with its first body write."""
    send = cycle.send

    async def send_holding_head(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and not cycle.response_started:
            transport = cycle.transport
            cycle.transport = _HeldHead(cycle, transport)  # type: ignore[assignment]
            try:
                await send(message)
            except BaseException:
                cycle.transport = transport
                raise
            return
        await send(message)
        if isinstance(cycle.transport, _HeldHead) and cycle.response_complete:
            cycle.transport.release()

    cycle.send = send_holding_head  # type: ignore[method-assign]


async def read_body(cycle: RequestResponseCycle, limit: int) -> bytes | None:
    """The whole request body, or None when the client went away; past ``limit`` bytes, stops
    reading and returns what came so far (longer than ``limit``: the caller answers 413)."""
    while cycle.more_body and not cycle.disconnected and len(cycle.body) <= limit:
        cycle.flow.resume_reading()  # uvicorn pauses reading while a large body piles up
        await cycle.message_event.wait()
        cycle.message_event.clear()
    if cycle.disconnected:
        return None
    body = bytes(cycle.body)
    cycle.body = bytearray()
    return body


async def write_response(cycle: RequestResponseCycle, response: Response) -> None:
    """Send ``response`` on ``cycle``: a finished one (status, headers, body) in one write and
    the cycle completed as uvicorn's ``send`` completes it; a stream or a response with a
    background task through ASGI."""
    if isinstance(response, StreamingResponse) or response.background is not None:
        hold_head(cycle)
        await response(cycle.scope, cycle.receive, cycle.send)  # type: ignore[arg-type]  # uvicorn's typed ASGI vs starlette's
        return
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    cycle.response_started = True
    head = [STATUS_LINE[response.status_code]]
    for name, value in (*cycle.default_headers, *response.raw_headers):
        head += (name, b": ", value, b"\r\n")
    if not cycle.keep_alive:
        head.append(b"connection: close\r\n")
    head.append(b"\r\n")
    cycle.transport.writelines((b"".join(head), response.body))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()


async def answer_directly(cycle: RequestResponseCycle, work: Awaitable[Response | None]) -> None:
    """Write the response ``work`` makes (None: the client went away, nothing to write)."""
    response = await work
    if response is not None:
        await write_response(cycle, response)


class _DirectAnswer:
    """One direct answer as an ASGI app, so uvicorn runs it like any app: a failure before the
    response started gets a 500, one after it the connection closed."""

    def __init__(self, work: Coroutine[Any, Any, None]) -> None:
        self.work = work

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.work


class HeadWithBodyProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose responses send their head with the first body write, and whose
    app may answer some requests directly (its ``direct(cycle)``)."""

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse gets the API's error format (uvicorn's is plain text)."""
        body = error_body(f"the request is not valid HTTP/1.1: {msg}", "invalid_request_error", "bad_request")
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head += (name, b": ", value, b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.transport.writelines((b"".join(head), body))
        self.transport.close()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        direct = getattr(app, "direct", None)
        work = direct(cycle) if direct is not None else None
        if work is None:
            hold_head(cycle)
            super()._start_asgi_task(cycle, app)
        else:
            super()._start_asgi_task(cycle, _DirectAnswer(work))
