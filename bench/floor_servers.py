"""Floors under the runtime's HTTP cost: servers that do less than the runtime, over the same pool.

Both take ``evolved-runtime serve``'s arguments (``--config``, ``--host``, ``--port``), run one
process on uvloop with a bare HTTP/1.1 protocol (``httptools``, keep-alive, no uvicorn, no ASGI)
and the runtime's own ``SolverPool`` with the config's solver settings, so real solves run in
real solver processes:

- ``relay``: hands each request's formal task (parsed once per distinct body) to the pool and
  writes a fixed 2-byte answer: the least work any Python server over this pool can do;
- ``handler``: the runtime's chat handler (``chat.handle``: validation, router program, pipeline,
  answer text, ``evolved`` object, metrics) behind the same bare protocol: the runtime without
  uvicorn;
- ``compiled``: the same pool's solver processes behind Go's ``net/http`` (``bench/relay_go``,
  built into the cache on first use): each of the benchmark's request bodies is relayed as its
  call, pickled here in advance, and answered with a fixed body: no Python on the request path.

Measured next to the runtime against the in-process limit (``bench.runtime_tier1 --floors``),
they split the server's cost per request into the part no Python server avoids (wake-ups, the
kernel's TCP and pipes, the pool), the chat handler's and uvicorn's; the compiled relay shows
what is left with no interpreter in the server at all.

    python -m bench.floor_servers relay serve --config FILE --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NoReturn

import httptools
import orjson
import uvloop
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from bench.problems import PROBLEMS, body, formal_call
from e2e import toolchain
from e2e.paths import cache_dir
from evolved_runtime.api import chat
from evolved_runtime.app import _start, new_state
from evolved_runtime.config import PipelineConfig, load_config
from evolved_runtime.solvers.backends import Backend, solve_task
from evolved_runtime.solvers.frames import frame
from evolved_runtime.solvers.pool import _worker_main, next_cpu
from evolved_runtime.solvers.wire import call_bytes
from evolved_runtime.symil.formal import FormalTask

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
            tasks[body] = formal_call(orjson.loads(body)["messages"][-1]["content"])
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


PYTHON_MODES: dict[str, Callable[[PipelineConfig], Awaitable[tuple[Answer, Callable[[], bool]]]]] = {
    "relay": _relay,
    "handler": _handler,
}
MODES = (*PYTHON_MODES, "compiled")
RELAY_GO = Path(__file__).parent / "relay_go"


def relay_binary() -> Path:
    """The Go relay, built into the cache when missing or older than its source."""
    out = cache_dir() / "bin" / "bench-relay-go"
    source = RELAY_GO / "main.go"
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        out.parent.mkdir(parents=True, exist_ok=True)
        toolchain.run(["go", "build", "-trimpath", "-o", str(out), "."], cwd=RELAY_GO)
    return out


def _solver(conn: Connection, memory_mb: int, cpu: int | None, inherited: list[int]) -> None:
    """A forked solver process: without the relay's ends of the pipes (its own included), so it
    sees its pipe close when the relay exits, then the pool's worker loop."""
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    _worker_main(conn, solve_task, memory_mb, cpu)


def _compiled(config: PipelineConfig, host: str, port: int) -> NoReturn:
    """Start the pool's solver processes (``_worker_main`` with the real solvers, forked from
    here so they stay this process's children), pickle each benchmark request's call, then
    become the Go relay over their pipes."""
    binary = relay_binary()
    solver = config.solver
    cpus = sorted(os.sched_getaffinity(0)) if solver.cpu_affinity == "spread" else None
    pinned: list[int] = []
    ctx = multiprocessing.get_context("fork")
    pipes: list[Connection] = []  # kept: a Connection closes its pipe when collected
    for _ in range(solver.pool_size):
        cpu = next_cpu(cpus, pinned) if cpus else None
        if cpu is not None:
            pinned.append(cpu)
        parent, child = ctx.Pipe(duplex=True)
        inherited = [p.fileno() for p in (*pipes, parent)]
        ctx.Process(target=_solver, args=(child, solver.memory_mb, cpu, inherited), daemon=True).start()
        child.close()
        said = parent.recv()
        if said != "ready":
            raise SystemExit(f"a solver process did not start: {said}")
        os.set_inheritable(parent.fileno(), True)
        pipes.append(parent)
    calls: dict[str, str] = {}
    for kind, content in PROBLEMS.items():
        call = frame(call_bytes(*formal_call(content), solver.timeout_ms))
        calls[body(kind)] = base64.b64encode(call).decode()
    spec = {
        "address": f"{host}:{port}",
        "per_process": 1 + solver.prefetch,
        "fds": [p.fileno() for p in pipes],
        "calls": calls,
    }
    path = Path(tempfile.mkdtemp()) / "relay.json"
    path.write_text(json.dumps(spec))
    os.execv(binary, [str(binary), str(path)])


async def _serve(mode: str, config: PipelineConfig, host: str, port: int) -> None:
    answer, ready = await PYTHON_MODES[mode](config)
    server = await asyncio.get_running_loop().create_server(lambda: BareHttp(answer, ready), host, port)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, choices=[1], help="one process only")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.mode == "compiled":
        _compiled(config, args.host, args.port)
    uvloop.run(_serve(args.mode, config, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
