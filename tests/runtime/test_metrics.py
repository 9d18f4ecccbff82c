"""Prometheus metrics add up across uvicorn workers and describe what the pipeline did."""

from __future__ import annotations

import json
import os
import re
import signal
from typing import Any

from bench.procstat import processes
from e2e.kube import wait_for

SYLLOGISM = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."


def sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_request_counts_from_two_workers_add_up(start_runtime: Any) -> None:
    runtime = start_runtime(workers=2)
    body = json.dumps({"model": "t", "messages": [{"role": "user", "content": SYLLOGISM}]}).encode()
    for _ in range(30):
        assert runtime.post("/v1/chat/completions", body)[0] == 200
    text = runtime.get("/metrics")[1].decode()
    assert sample(text, "evolved_requests_total", status="200", tier="1", pipeline="test", variant="v1") == 30
    assert sample(text, "evolved_tier_decisions_total", tier="1") == 30
    assert sample(text, "evolved_request_duration_seconds_count", tier="1") == 30
    assert sample(text, "evolved_solver_duration_seconds_count", solver="clingo", verdict="VALID") == 30
    assert sample(text, "evolved_in_flight_requests") == 0
    infos = re.findall(r'evolved_program_info\{component="router",hash="[0-9a-f]+"\} 1.0', text)
    assert len(infos) == 1


def test_failed_requests_are_counted_by_status(start_runtime: Any) -> None:
    runtime = start_runtime()
    body = b'{"model":"t","messages":[{"role":"user","content":"Write a poem"}]}'
    assert runtime.post("/v1/chat/completions", body)[0] == 503
    text = runtime.get("/metrics")[1].decode()
    assert sample(text, "evolved_requests_total", status="503") == 1


def solver_pids(server: int) -> list[int]:
    """The solver processes of a runtime: the server's grandchildren (children of its forkserver)."""
    table = processes()
    children = {pid for pid, (_, parent, _) in table.items() if parent == server}
    return [pid for pid, (_, parent, _) in table.items() if parent in children]


def test_solver_process_replacements_are_counted_by_reason(start_runtime: Any) -> None:
    runtime = start_runtime()
    text = runtime.get("/metrics")[1].decode()
    for reason in ("timeout", "crash", "protocol", "recycled"):  # every reason shows from the start
        assert f'evolved_solver_processes_replaced_total{{reason="{reason}"}} 0.0' in text
    victim = solver_pids(runtime.process.process.pid)[0]
    os.kill(victim, signal.SIGKILL)

    def counted() -> bool:
        metrics = runtime.get("/metrics")[1].decode()
        return sample(metrics, "evolved_solver_processes_replaced_total", reason="crash") == 1

    wait_for("the crash counted", counted, timeout=30)
    body = json.dumps({"model": "t", "messages": [{"role": "user", "content": SYLLOGISM}]}).encode()
    assert runtime.post("/v1/chat/completions", body)[0] == 200
