"""Runtime integration fixtures: real `evolved-runtime serve` processes and a fake upstream, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e import processes
from e2e.fake_upstream import Behaviour, FakeUpstream
from e2e.kube import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    """Poll ``condition`` between event-loop turns until it holds (fails after ``timeout``)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)  # the state polled is plain attributes, not an event


def http_status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@dataclass
class Runtime:
    process: processes.Background
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def get(self, path: str) -> tuple[int, bytes]:
        return http_status(self.url + path)

    def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        request = urllib.request.Request(
            self.url + path, data=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return (
                    int(response.status),
                    json.loads(response.read()),
                    {k.lower(): v for k, v in response.headers.items()},
                )
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}"), {k.lower(): v for k, v in exc.headers.items()}


StartRuntime = Callable[..., Runtime]


@pytest.fixture
def start_runtime(tmp_path: Path) -> Iterator[StartRuntime]:
    started: list[Runtime] = []

    def start(config: dict[str, Any] | None = None, *, workers: int = 1, env: dict[str, str] | None = None,
              wait_ready: bool = True) -> Runtime:  # fmt: skip
        port = free_port()
        path = tmp_path / f"pipeline-{port}.json"
        path.write_text(json.dumps({"pipeline": "test", "variant": "v1", **(config or {})}))
        cmd = [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(path), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
        proc = processes.start("evolved-runtime", cmd, tmp_path / f"runtime-{port}.log", env=env)
        runtime = Runtime(proc, port)
        started.append(runtime)
        wait_for("/health", lambda: runtime.get("/health")[0] == 200 or not proc.alive(), timeout=60)
        assert proc.alive(), proc.log_tail()
        if wait_ready:
            # Readiness is per worker process and each probe lands on one of them: with several
            # workers, wait until many probes in a row say ready (as bench/runtime_tier1.py does).
            probes = 1 if workers == 1 else 20
            wait_for(
                "/ready on every worker",
                lambda: all(runtime.get("/ready")[0] == 200 for _ in range(probes)),
                timeout=60,
            )
        return runtime

    yield start
    for runtime in started:
        runtime.process.stop()


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream(Behaviour()).start()
    yield fake
    fake.stop()
