"""uvicorn's httptools protocol, with a response's head sent in the same write as its first body.

uvicorn writes the status line and headers as soon as the app sends ``http.response.start`` and
the body in a second write. On a TCP connection with ``TCP_NODELAY`` (uvloop's default) that is
two segments per response: the client wakes for the head, then again for the body, and the
server pays the loopback or network path twice. The head here waits for the first body message
(or the end of the response) and both leave in one ``writelines`` (one vectored write), which
is how Go's ``net/http`` buffers a response's header until the first body write.

An ``Expect: 100-continue`` answer is not held: it is written by ``receive`` before the app
starts a response, and only the head written while ``http.response.start`` is handled is held.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGI3Application, ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


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

    cycle.send = send_holding_head  # type: ignore[method-assign]


class HeadWithBodyProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose responses send their head with the first body write."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        hold_head(cycle)
        super()._start_asgi_task(cycle, app)
