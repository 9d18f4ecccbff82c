"""Run the router: one uvloop event loop, one listening socket, a table from flags or from Kubernetes."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from evolved_runtime.router.proxy import ClientConnection, Options, Router
from evolved_runtime.router.table import Table

log = logging.getLogger("evolved_runtime.router")

# Given the router once it runs, a source keeps its table current (the Kubernetes watches).
DRAIN_S = 10.0  # on SIGTERM, how long requests in flight may take to finish

Source = Callable[[Router], Coroutine[Any, Any, None]]


async def serve(table: Table, host: str, port: int, options: Options, source: Source | None = None) -> None:
    loop = asyncio.get_running_loop()
    router = Router(table, options)
    server = await loop.create_server(lambda: ClientConnection(router), host, port, backlog=2048)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    following = loop.create_task(source(router)) if source is not None else None
    log.info("router listening", extra={"fields": {"host": host, "port": port, "source": table.source}})
    await stop.wait()
    server.close()  # no new connections; the requests in flight may finish
    if following is not None:
        following.cancel()
    deadline = loop.time() + DRAIN_S
    while router.active and loop.time() < deadline:  # noqa: ASYNC110 (a plain counter, polled only at a stop)
        await asyncio.sleep(0.05)


def run(table: Table, host: str, port: int, options: Options, source: Source | None = None) -> None:
    uvloop.run(serve(table, host, port, options, source))
