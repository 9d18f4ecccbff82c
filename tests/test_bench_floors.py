"""The benchmark's floor servers (bench/floor_servers.py) answer its requests over real solver
processes, and leave none of them running when stopped."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from bench.floor_servers import MODES
from bench.problems import PROBLEMS, body
from bench.procstat import descendants, processes
from bench.runtime_tier1 import start_runtime
from e2e.kube import wait_for


def post(port: int, data: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", data=data.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("mode", MODES)
def test_floor_answers_the_benchmark_and_stops_its_solvers(mode: str) -> None:
    proc, port = start_runtime(1, pool_size=1, prefetch=2, command=("-m", "bench.floor_servers", mode))
    try:
        solvers = descendants(proc.process.pid)
        assert solvers, "the floor runs its own solver processes"
        for kind in PROBLEMS:
            status, answer = post(port, body(kind))
            assert status == 200, answer
            if mode == "handler":  # the runtime's own answer, behind the bare protocol
                assert b'"verdict":"SAT"' in answer
        if mode == "compiled":  # it knows the benchmark's bodies only, and says so
            status, answer = post(port, '{"model": "x", "messages": []}')
            assert (status, answer.strip()) == (400, b"the compiled relay answers the benchmark's requests only")
    finally:
        proc.stop()
    wait_for("the floor's solver processes to exit", lambda: not (solvers & set(processes())), timeout=30)
