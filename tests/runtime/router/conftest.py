"""Router fixtures: `evolved-runtime router` as a real process on 127.0.0.1, and test backends."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e import processes
from e2e.kube import wait_for
from tests.runtime.conftest import Runtime, free_port, http_status
from tests.runtime.router.backend import Backend


class RouterProcess(Runtime):
    """A router process: a runtime's process and port, and the router's own paths."""

    def traffic(self) -> dict[str, Any]:
        status, body = http_status(self.url + "/traffic")
        assert status == 200, body
        return dict(json.loads(body))

    def metrics(self) -> dict[str, float]:
        """The router's samples, ``name{labels}`` -> value."""
        status, body = http_status(self.url + "/metrics")
        assert status == 200
        lines = body.decode().splitlines()
        return {
            k: float(v) for k, _, v in (line.rpartition(" ") for line in lines if line and not line.startswith("#"))
        }


StartRouter = Callable[..., RouterProcess]


@pytest.fixture
def start_router(tmp_path: Path) -> Iterator[StartRouter]:
    started: list[RouterProcess] = []

    def start(*flags: str, healthy: bool = True) -> RouterProcess:
        """A router with these flags, once its /healthz says 200 (``healthy`` False: 503)."""
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "evolved_runtime.cli",
            "router",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *flags,
        ]
        proc = processes.start("router", cmd, tmp_path / f"router-{port}.log")
        router = RouterProcess(proc, port)
        started.append(router)
        expected = 200 if healthy else 503

        def answering() -> bool:
            return http_status(router.url + "/healthz")[0] == expected or not proc.alive()

        wait_for(f"the router's /healthz to answer {expected}", answering, 30)
        assert proc.alive(), proc.log_tail()
        return router

    yield start
    for router in started:
        assert router.process.stop() == 0, router.process.log_tail()


@pytest.fixture
def backends() -> Iterator[Callable[..., Backend]]:
    started: list[Backend] = []

    def start(**kw: Any) -> Backend:
        backend = Backend(**kw).start()
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.gate.set()
        backend.stop()
