"""Floors under the runtime's HTTP cost: servers that do less than the runtime, over the same pool.

Both take ``evolved-runtime serve``'s arguments (``--config``, ``--host``, ``--port``), run one
process on uvloop with a bare HTTP/1.1 protocol (``httptools``, keep-alive, no uvicorn, no ASGI)
and the runtime's own ``SolverPool`` with the config's solver settings, so real solves run in
real solver processes:

- ``relay``: hands each request's formal task (parsed once per distinct body) to the pool and
  writes a fixed 2-byte answer: the least work any Python server over this pool can do;
- ``handler``: the runtime's chat handler (``chat.handle``: validation, router program, pipeline,
  answer text, ``evolved`` object, metrics) behind the same bare protocol: the runtime without
  uvicorn.

Measured next to the runtime against the in-process limit (``bench.runtime_tier1 --floors``),
they split the server's cost per request into the part no Python server avoids (wake-ups, the
kernel's TCP and pipes, the pool), the chat handler's and uvicorn's.

    python -m bench.floor_servers relay serve --config FILE --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import httptools
import orjson
import uvloop
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from evolved_runtime.api import chat
from evolved_runtime.app import _start, new_state
from evolved_runtime.config import PipelineConfig, load_config
from evolved_runtime.solvers.backends import Backend, applicable_backends
from evolved_runtime.symil.formal import FormalTask, extract_formal

FIXED = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
NOT_READY = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
READY = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
Answer = Callable[[bytes], Awaitable[bytes]]


class BareHttp(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and nothing else: a GET is a readiness probe, a POST's body goes
    to ``answer``, whose bytes are the whole response."""

    def __init__(self, answer: Answer, ready: Callable[[], bool]) -> None:
        self.answer = answer
        self.ready = ready
        self.parser = httptools.HttpRequestParser(self)
        self.body = bytearray()
        self.transport: asyncio.Transport | None = None
        self.responding: set[asyncio.Future[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport is not an asyncio.Transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        if self.parser.get_method() == b"GET":
            self._write(READY if self.ready() else NOT_READY)
            return
        body, self.body = bytes(self.body), bytearray()
        task = asyncio.ensure_future(self._respond(body))
        self.responding.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self.responding.discard)

    async def _respond(self, body: bytes) -> None:
        self._write(await self.answer(body))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


async def _relay(config: PipelineConfig) -> tuple[Answer, Callable[[], bool]]:
    pool = new_state(config).pool  # the runtime's pool, from the same settings
    await pool.start()
    tasks: dict[bytes, tuple[FormalTask, Backend]] = {}

    async def answer(body: bytes) -> bytes:
        if body not in tasks:
            task = extract_formal(orjson.loads(body)["messages"][-1]["content"])
            assert task is not None, "the relay answers formal input only"
            tasks[body] = (task, applicable_backends(task)[0])
        await pool.solve(*tasks[body])
        return FIXED

    return answer, pool.healthy


async def _handler(config: PipelineConfig) -> tuple[Answer, Callable[[], bool]]:
    state = new_state(config)
    await _start(state)

    async def answer(body: bytes) -> bytes:
        response = await chat.handle(state, body, None)
        head = [STATUS_LINE[response.status_code]]
        for name, value in response.raw_headers:
            head += (name, b": ", value, b"\r\n")
        head.append(b"\r\n")
        return b"".join(head) + bytes(response.body)

    return answer, state.ready


MODES: dict[str, Callable[[PipelineConfig], Awaitable[tuple[Answer, Callable[[], bool]]]]] = {
    "relay": _relay,
    "handler": _handler,
}


async def _serve(mode: str, config: PipelineConfig, host: str, port: int) -> None:
    answer, ready = await MODES[mode](config)
    server = await asyncio.get_running_loop().create_server(lambda: BareHttp(answer, ready), host, port)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=list(MODES))
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, choices=[1], help="one process only")
    args = parser.parse_args(argv)
    uvloop.run(_serve(args.mode, load_config(args.config), args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
