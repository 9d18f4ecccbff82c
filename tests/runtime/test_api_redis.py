"""Limits, cache and budgets shared through a real Redis (Debian's redis-server, started here on a
free port), by two runtime workers; Redis killed in the middle: the workers serve on without it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from e2e import processes
from e2e.fake_upstream import FakeUpstream
from e2e.kube import wait_for
from tests.runtime.conftest import free_port

KEY = "sk-redis-test"
HAIKU = [{"role": "user", "content": "Write a haiku about fog"}]
SYLLOGISM = [
    {"role": "user", "content": "All cats are mammals. All mammals are animals. Therefore, all cats are animals."}
]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server: run `make system-deps`")
    port = free_port()
    cmd = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
           "--dir", str(tmp_path)]  # fmt: skip
    proc = processes.start("redis-server", cmd, tmp_path / "redis.log")

    def answers() -> bool:
        probe = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False)
        return probe.stdout.strip() == "PONG"

    wait_for("redis-server to answer", lambda: answers() or not proc.alive(), timeout=20)
    assert proc.alive(), proc.log_tail()
    yield f"redis://127.0.0.1:{port}/0"
    proc.stop()


def shared(upstream: FakeUpstream, **extra: Any) -> dict[str, Any]:
    return {"llm": {"base_url": upstream.base_url, "model": "m"}, "auth": {"api_keys_env": "TEST_KEYS"},
            "redis": {"url_env": "TEST_REDIS_URL", "retry_s": 0.5}, **extra}  # fmt: skip


def two_workers(start_runtime: Any, redis_url: str, config: dict[str, Any]) -> list[OpenAI]:
    env = {"TEST_KEYS": KEY, "TEST_REDIS_URL": redis_url}
    runtimes = [start_runtime(config, env=env) for _ in range(2)]
    return [OpenAI(base_url=r.base_url, api_key=KEY, max_retries=0) for r in runtimes]


def test_two_workers_share_one_rate_limit(start_runtime: Any, upstream: FakeUpstream, redis_url: str) -> None:
    a, b = two_workers(
        start_runtime, redis_url, shared(upstream, limits={"requests_per_minute": 4, "backend": "redis"})
    )
    for client in (a, b, a, b):
        client.chat.completions.create(model="t", messages=SYLLOGISM)  # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError):
        b.chat.completions.create(model="t", messages=SYLLOGISM)  # type: ignore[arg-type]


def test_an_answer_cached_by_one_worker_is_served_by_the_other(
    start_runtime: Any, upstream: FakeUpstream, redis_url: str
) -> None:
    a, b = two_workers(start_runtime, redis_url, shared(upstream, cache={"enabled": True, "redis": True}))
    first = a.chat.completions.with_raw_response.create(model="t", messages=HAIKU)  # type: ignore[arg-type]
    assert first.headers["x-evolved-cache"] == "miss"
    again = b.chat.completions.with_raw_response.create(model="t", messages=HAIKU)  # type: ignore[arg-type]
    assert again.headers["x-evolved-cache"] == "redis"
    assert upstream.requests == 1


def test_two_workers_share_one_budget(start_runtime: Any, upstream: FakeUpstream, redis_url: str) -> None:
    priced = {"providers": [{"name": "p", "base_url": upstream.base_url, "model": "m",
                             "input_usd_per_mtok": 100_000, "output_usd_per_mtok": 100_000}]}  # fmt: skip
    config = shared(upstream, budgets={"hourly_usd": 0.5, "backend": "redis"})
    config["llm"] = priced
    a, b = two_workers(start_runtime, redis_url, config)
    a.chat.completions.create(model="t", messages=HAIKU, max_tokens=5)  # type: ignore[arg-type]  # $0.8
    with pytest.raises(openai.RateLimitError) as caught:
        b.chat.completions.create(model="t", messages=HAIKU, max_tokens=5)  # type: ignore[arg-type]
    assert caught.value.body["code"] == "budget_exceeded"  # type: ignore[index]


def test_redis_killed_mid_test_costs_no_error(
    start_runtime: Any, upstream: FakeUpstream, redis_url: str, tmp_path: Path
) -> None:
    config = shared(upstream, cache={"enabled": True, "redis": True}, limits={"requests_per_minute": 100, "backend": "redis"},
                    budgets={"hourly_usd": 10, "backend": "redis"})  # fmt: skip
    runtime = start_runtime(config, env={"TEST_KEYS": KEY, "TEST_REDIS_URL": redis_url})
    client = OpenAI(base_url=runtime.base_url, api_key=KEY, max_retries=0)
    client.chat.completions.create(model="t", messages=HAIKU)  # type: ignore[arg-type]
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True, check=False)
    wait_for("Redis to be gone", lambda: subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True,
             check=False).returncode != 0, timeout=10)  # fmt: skip
    for i in range(5):
        reply = client.chat.completions.create(model="t", messages=[{"role": "user", "content": f"Poem {i}"}])  # type: ignore[arg-type]
        assert reply.choices[0].message.content == "Hello from the fake upstream."
    log = runtime.process.log_path.read_text()
    assert log.count("redis unavailable") == 1
    metrics = runtime.get("/metrics")[1].decode()
    assert "evolved_redis_errors_total" in metrics
