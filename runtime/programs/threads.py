"""A few daemon threads that run program calls for the event loop.

Not ``concurrent.futures.ThreadPoolExecutor``: its threads are joined at interpreter exit, so a
program stuck in a call would keep the worker from shutting down. These threads are daemons;
a stuck call costs one thread until the process exits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class ProgramThreads:
    def __init__(self, size: int, name: str = "program") -> None:
        self.size = size
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn = job
            if future.cancelled():
                continue
            try:
                result, error = fn(), None
            except BaseException as exc:  # handed to the caller, whatever it is
                result, error = None, exc
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, future, result, error)

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Run ``fn`` in a thread; await the returned future on the calling loop."""
        with self._lock:
            if len(self._threads) < self.size:
                thread = threading.Thread(target=self._serve, name=f"{self.name}-{len(self._threads)}", daemon=True)
                thread.start()
                self._threads.append(thread)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, fn))
        return future

    def close(self) -> None:
        """Let idle threads end; a thread stuck in a call ends with the process."""
        for _ in self._threads:
            self._jobs.put(None)
