"""The router in front of real runtime workers (`evolved-runtime serve`): the split, sticky keys,
shadow comparison, weights changed under load, a worker killed under load, streams."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI, OpenAI

from e2e import processes
from e2e.fake_upstream import FakeUpstream
from e2e.kube import wait_for
from evolved_runtime.router.pick import Split
from tests.runtime.conftest import Runtime, free_port, http_status, wait_until
from tests.runtime.router.conftest import StartRouter
from tests.runtime.router.load import Outcome, hammer

SYLLOGISM = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."
CHAT = json.dumps({"model": "t", "messages": [{"role": "user", "content": SYLLOGISM}]}).encode()


def start_worker(directory: Path, variant: str) -> Runtime:
    port = free_port()
    config = directory / f"{variant}-{port}.json"
    config.write_text(json.dumps({"pipeline": "test", "variant": variant}))
    cmd = [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(config), "--host", "127.0.0.1",
           "--port", str(port)]  # fmt: skip
    worker = Runtime(processes.start(f"worker-{variant}", cmd, directory / f"{variant}-{port}.log"), port)
    wait_for(f"worker {variant} ready", lambda: worker.get("/ready")[0] == 200 or not worker.process.alive(), 60)
    assert worker.process.alive(), worker.process.log_tail()
    return worker


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Runtime]]:
    """One worker per variant, shared by the module's tests (none of them stops one)."""
    directory = tmp_path_factory.mktemp("workers")
    started: dict[str, Runtime] = {}
    try:
        for variant in ("stable", "canary"):
            started[variant] = start_worker(directory, variant)
        yield started
    finally:
        for worker in started.values():
            worker.process.stop()


def put_weights(router_url: str, weights: dict[str, int]) -> None:
    body = json.dumps({"weights": weights}).encode()
    request = urllib.request.Request(router_url + "/traffic", data=body, method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


async def test_the_split_is_within_2_points_of_the_weights_over_10000_requests(
    start_router: StartRouter, workers: dict[str, Runtime]
) -> None:
    router = start_router("--variant", f"stable={workers['stable'].url}", "--variant", f"canary={workers['canary'].url}",
                          "--weight", "stable=70", "--weight", "canary=30")  # fmt: skip
    outcome = await hammer(router.url + "/health", 10_000)
    assert outcome.errors == []
    assert abs(outcome.variants["stable"] / 10_000 - 0.70) <= 0.02
    assert abs(outcome.variants["canary"] / 10_000 - 0.30) <= 0.02
    samples = router.metrics()
    assert samples['evolved_router_requests_total{variant="stable"}'] == outcome.variants["stable"]
    assert samples['evolved_router_weight{variant="canary"}'] == 30


async def test_the_same_key_always_lands_on_the_same_variant(
    start_router: StartRouter, workers: dict[str, Runtime]
) -> None:
    router = start_router("--variant", f"stable={workers['stable'].url}", "--variant", f"canary={workers['canary'].url}",
                          "--weight", "stable=50", "--weight", "canary=50", "--sticky-header", "X-User")  # fmt: skip
    seen: dict[str, set[str]] = {}
    for _ in range(3):
        outcome = Outcome()
        for key in range(300):
            await hammer(
                router.url + "/health", 1, 1, headers=lambda _, k=key: {"X-User": f"user-{k}"}, outcome=outcome
            )
            seen.setdefault(f"user-{key}", set()).update(outcome.variants)
            outcome.variants.clear()
        assert outcome.errors == []
    assert all(len(variants) == 1 for variants in seen.values())
    split = Split.of({"stable": 50, "canary": 50})  # the router's assignment is the pure one
    assert {key: split.by_key(key.encode()) for key in seen} == {key: variants.pop() for key, variants in seen.items()}
    without_key = await hammer(router.url + "/health", 400)
    assert set(without_key.variants) == {"stable", "canary"}  # without a key, by weight


async def test_the_openai_user_field_is_a_sticky_key(start_router: StartRouter, workers: dict[str, Runtime]) -> None:
    router = start_router("--variant", f"stable={workers['stable'].url}", "--variant", f"canary={workers['canary'].url}",
                          "--weight", "stable=50", "--weight", "canary=50", "--sticky-openai-user")  # fmt: skip
    client = AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    landed: dict[str, set[str]] = {}
    for _ in range(2):
        for user in range(12):
            raw = await client.chat.completions.with_raw_response.create(
                model="t", messages=[{"role": "user", "content": SYLLOGISM}], user=f"user-{user}"
            )
            assert raw.parse().choices[0].message.content.startswith("VALID")
            landed.setdefault(f"user-{user}", set()).add(raw.headers["x-evolved-variant"])
    assert all(len(variants) == 1 for variants in landed.values())
    assert {v for variants in landed.values() for v in variants} == {"stable", "canary"}


async def test_a_mirrored_variant_answering_alike_shows_full_agreement(
    start_router: StartRouter, workers: dict[str, Runtime]
) -> None:
    router = start_router("--variant", f"stable={workers['stable'].url}", "--variant", f"canary={workers['canary'].url}",
                          "--weight", "stable=100", "--mirror", "canary=100")  # fmt: skip
    client = OpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    for _ in range(20):
        raw = client.chat.completions.with_raw_response.create(
            model="t", messages=[{"role": "user", "content": SYLLOGISM}]
        )
        assert raw.headers["x-evolved-variant"] == "stable"
        assert raw.headers["x-evolved-verdict"] == "VALID"
    agreed = 'evolved_router_shadow_comparisons_total{mirror="canary",primary="stable",result="agree"}'
    await wait_until(lambda: router.metrics().get(agreed) == 20, timeout=30)
    samples = router.metrics()
    assert samples['evolved_router_shadow_agreement_ratio{mirror="canary",primary="stable"}'] == 1.0
    assert samples['evolved_router_mirror_requests_total{result="sent",variant="canary"}'] == 20
    assert samples['evolved_router_tiers_total{tier="1",variant="stable"}'] == 20


async def test_weights_changed_under_load_give_no_error(start_router: StartRouter, workers: dict[str, Runtime]) -> None:
    router = start_router("--variant", f"stable={workers['stable'].url}", "--variant", f"canary={workers['canary'].url}",
                          "--weight", "stable=90", "--weight", "canary=10")  # fmt: skip
    outcome = Outcome()
    load = asyncio.create_task(hammer(router.url + "/health", 6000, concurrency=8, outcome=outcome))
    for done, weights in ((1000, {"stable": 50, "canary": 50}), (2500, {"stable": 10, "canary": 90})):
        await wait_until(lambda d=done: outcome.done >= d or load.done(), timeout=60)  # type: ignore[misc]
        await asyncio.to_thread(put_weights, router.url, weights)
    before = dict(outcome.variants)
    await load
    assert outcome.errors == []
    assert outcome.done == 6000
    after = {v: outcome.variants[v] - before.get(v, 0) for v in outcome.variants}
    assert after["canary"] > after["stable"]  # the last weights (10/90) serve the rest
    assert router.traffic()["weights"] == {"stable": 10, "canary": 90}


async def test_a_worker_killed_under_load_gives_no_client_error(
    start_router: StartRouter, workers: dict[str, Runtime], tmp_path: Path
) -> None:
    first, second = start_worker(tmp_path, "stable"), start_worker(tmp_path, "stable")
    try:
        router = start_router("--variant", f"stable={first.url}", "--variant", f"stable={second.url}",
                              "--variant", f"canary={workers['canary'].url}",
                              "--weight", "stable=80", "--weight", "canary=20")  # fmt: skip
        outcome = Outcome()
        load = asyncio.create_task(hammer(router.url + "/v1/chat/completions", 1500, 8, body=CHAT, outcome=outcome))
        await wait_until(lambda: outcome.done >= 300 or load.done(), timeout=120)
        second.process.process.send_signal(signal.SIGKILL)
        await load
        assert outcome.errors == []
        assert outcome.done == 1500
        address = f"127.0.0.1:{second.port}"
        states = {e["address"]: e["state"] for e in router.traffic()["variants"][0]["endpoints"]}
        assert states[address] in ("ejected", "probation")
        assert http_status(router.url + "/healthz")[0] == 200
    finally:
        first.process.stop()
        second.process.stop()


async def test_a_workers_stream_reaches_the_client_through_the_router(
    start_router: StartRouter, workers: dict[str, Runtime]
) -> None:
    router = start_router("--variant", f"stable={workers['stable'].url}")
    client = AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
    stream = await client.chat.completions.create(
        model="t", messages=[{"role": "user", "content": "Solve 3x + 5 = 20"}], stream=True
    )
    chunks: list[Any] = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("SAT")
    assert "x = 5" in text
    assert len(chunks) >= 3
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_the_router_sums_what_the_workers_llm_calls_cost_per_variant(
    start_router: StartRouter, start_runtime: Any, upstream: FakeUpstream
) -> None:
    """The analysis' cost check reads the router's evolved_router_cost_usd_total: each worker says
    what a response cost in X-Evolved-Cost-USD, and the sum matches the worker's /costs."""
    priced = {"providers": [{"name": "p", "base_url": upstream.base_url, "model": "m",
                             "input_usd_per_mtok": 1000, "output_usd_per_mtok": 2000}]}  # fmt: skip
    worker = start_runtime({"variant": "canary", "llm": priced})
    router = start_router("--variant", f"canary={worker.url}", "--weight", "canary=100")
    client = OpenAI(base_url=router.url + "/v1", api_key="none", max_retries=0)
    for i in range(3):
        raw = client.chat.completions.with_raw_response.create(
            model="t", messages=[{"role": "user", "content": f"Write a haiku about rain, take {i}"}]
        )
        assert float(raw.headers["x-evolved-cost-usd"]) == pytest.approx(0.013)  # 3 in, 5 out
    solver = client.chat.completions.with_raw_response.create(
        model="t", messages=[{"role": "user", "content": SYLLOGISM}]
    )
    assert "x-evolved-cost-usd" not in solver.headers  # the solvers cost nothing
    worker_total = json.loads(worker.get("/costs")[1])["total_usd"]
    assert worker_total == pytest.approx(0.039)
    assert router.metrics()['evolved_router_cost_usd_total{variant="canary"}'] == pytest.approx(worker_total)
