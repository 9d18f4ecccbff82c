"""Analysis sources against real parts: `evolved-runtime router` in front of real workers or test
backends (one answering 500 to every fifth request), and a real Prometheus (built by `make binaries`) scraping that router.

The Prometheus tests skip when its binary is not built, unless ``EVOLVED_REQUIRE_CLUSTER=1`` (CI)
makes that a failure, as tests/conftest.py does for the cluster.
"""

from __future__ import annotations

import asyncio
import http.server
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e import prometheus, toolchain
from e2e.kube import wait_for
from evolved_operator.analysis import Measurement
from evolved_operator.analysis.judge import judge
from evolved_operator.analysis.prometheus_source import PrometheusSource
from evolved_operator.analysis.router_source import DEFAULT_TEMPLATE, ENV_URL, RouterSource
from evolved_operator.api_strategy import Analysis
from tests.runtime.conftest import Runtime, free_port
from tests.runtime.router.backend import Backend
from tests.runtime.router.conftest import RouterProcess, StartRouter, start_router
from tests.runtime.router.load import Outcome, hammer
from tests.runtime.router.test_workers import CHAT, start_worker

__all__ = ["start_router"]  # the router fixture, used by the tests below

NAMESPACE, PIPELINE = "analysis", "qa"
VARIANTS = ["stable", "canary"]
FAIL_ONE_IN = 5  # the flaky candidate answers 500 to every fifth request: a 20% error rate


# -- real parts ---------------------------------------------------------------------------------


@dataclass
class FlakyBackend(Backend):
    """A test backend (tier 1, verdict VALID) answering 500 to every ``fail_every``-th request."""

    fail_every: int = FAIL_ONE_IN

    def answer(self) -> bytes:
        if self.requests % self.fail_every == 0:  # counted before it answers
            return (
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
            )
        return super().answer()


@pytest.fixture
def backends() -> Iterator[dict[str, Backend]]:
    started = {"stable": Backend().start(), "healthy": Backend().start(), "flaky": FlakyBackend().start()}
    yield started
    for backend in started.values():
        backend.stop()


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Runtime]]:
    directory = tmp_path_factory.mktemp("workers")
    started: dict[str, Runtime] = {}
    try:
        for variant in VARIANTS:
            started[variant] = start_worker(directory, variant)
        yield started
    finally:
        for worker in started.values():
            worker.process.stop()


def split_router(start_router: StartRouter, stable: str, canary: str, *flags: str) -> RouterProcess:
    return start_router("--variant", f"stable={stable}", "--variant", f"canary={canary}",
                        "--weight", "stable=50", "--weight", "canary=50", *flags)  # fmt: skip


def metrics_url(router: RouterProcess) -> str:
    return router.url + "/metrics"


async def chats(router: RouterProcess, count: int) -> Outcome:
    return await hammer(router.url + "/v1/chat/completions", count, concurrency=8, body=CHAT)


class Exposition(http.server.ThreadingHTTPServer):
    """A real HTTP server on 127.0.0.1 answering ``/metrics`` with whatever text the test sets."""

    def __init__(self) -> None:
        self.text = ""
        self.status = 200

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                handler.rfile.read(int(handler.headers.get("Content-Length") or 0))  # a query POSTed
                body = self.text.encode()
                handler.send_response(self.status)
                handler.send_header("Content-Type", "text/plain; version=0.0.4")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            do_POST = do_GET

            def log_message(handler, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/metrics"


@pytest.fixture
def exposition() -> Iterator[Exposition]:
    server = Exposition()
    yield server
    server.shutdown()
    server.server_close()


def counters(requests: dict[str, int], errors: dict[str, int] | None = None) -> str:
    lines = ["# TYPE evolved_router_requests_total counter"]
    lines += [f'evolved_router_requests_total{{variant="{v}"}} {n}' for v, n in requests.items()]
    lines += ["# TYPE evolved_router_responses_total counter"]
    lines += [f'evolved_router_responses_total{{variant="{v}",code="5xx"}} {n}' for v, n in (errors or {}).items()]
    return "\n".join(lines) + "\n"


def settings(**limits: Any) -> Analysis:
    return Analysis.model_validate({"minRequests": 50, **limits})


# -- the router source --------------------------------------------------------------------------


async def test_the_router_source_measures_requests_errors_p95_and_tiers_per_variant_over_a_window(
    start_router: StartRouter, workers: dict[str, Runtime]
) -> None:
    router = split_router(start_router, workers["stable"].url, workers["canary"].url)
    source = RouterSource(metrics_url(router))
    first = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    assert first == Measurement(error="first scrape: no window yet")
    assert judge(settings(), "stable", "canary", first).verdict == "Inconclusive"

    outcome = await chats(router, 300)
    assert outcome.errors == []
    window = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    assert window.error is None
    for variant in VARIANTS:
        sample = window.samples[variant]
        served = outcome.variants[variant]
        assert sample.requests == served > 50  # 50/50 over 300 requests
        assert sample.errors == 0
        assert sample.tiers == {"1": served}  # the syllogism is answered by a solver
        assert (sample.solver_answers, sample.solver_verdicts) == (served, served)
        assert sample.p95_ms is not None
        assert 0 < sample.p95_ms < 5000

    again = await chats(router, 40)
    second = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    assert {v: s.requests for v, s in second.samples.items()} == {v: again.variants[v] for v in VARIANTS}


@pytest.mark.parametrize(("candidate", "verdict"), [("healthy", "Passed"), ("flaky", "Failed")])
async def test_the_judge_on_router_measurements_fails_a_candidate_with_20_percent_errors(
    start_router: StartRouter, backends: dict[str, Backend], candidate: str, verdict: str
) -> None:
    router = split_router(start_router, backends["stable"].url, backends[candidate].url)
    source = RouterSource(metrics_url(router))
    await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    outcome = await chats(router, 500)
    measurement = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    canary = measurement.samples["canary"]
    assert canary.requests == outcome.variants["canary"]
    assert canary.errors == len(outcome.errors) == (canary.requests // FAIL_ONE_IN if candidate == "flaky" else 0)
    result = judge(settings(maxErrorRate=5, maxErrorRateIncrease=2), "stable", "canary", measurement)
    assert result.verdict == verdict, result.message
    if verdict == "Failed":
        rate = 100 * canary.errors / canary.requests
        assert result.message.startswith(f"error rate {rate:.1f}% > 5.0%")
        assert 19 <= rate <= 20


async def test_a_router_that_restarted_primes_the_window_again(exposition: Exposition) -> None:
    source = RouterSource(exposition.url)
    exposition.text = counters({"stable": 100, "canary": 100})
    await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    exposition.text = counters({"stable": 160, "canary": 130}, {"canary": 3})
    window = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    assert (window.samples["stable"].requests, window.samples["canary"].requests) == (60, 30)
    assert window.samples["canary"].errors == 3
    exposition.text = counters({"stable": 5, "canary": 4})  # a new router process: counters from zero
    restarted = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    assert restarted.error == f"router {exposition.url} restarted (a counter went down): window starts again"
    exposition.text = counters({"stable": 65, "canary": 64})
    after = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
    assert (after.samples["stable"].requests, after.samples["canary"].requests) == (60, 60)


async def test_a_previous_scrape_older_than_two_windows_primes_again(exposition: Exposition) -> None:
    now = [1000.0]
    source = RouterSource(exposition.url, clock=lambda: now[0])
    exposition.text = counters({"stable": 1, "canary": 1})
    await source.measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    now[0] += 61
    exposition.text = counters({"stable": 100, "canary": 100})
    stale = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert stale.error == "the last scrape is 61 s old (window 30 s): window starts again"
    now[0] += 30
    exposition.text = counters({"stable": 150, "canary": 120})
    fresh = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert {v: s.requests for v, s in fresh.samples.items()} == {"stable": 50, "canary": 20}


async def test_several_router_pods_are_measured_each_against_itself_and_summed(exposition: Exposition) -> None:
    other = Exposition()
    try:
        pods = [exposition.url]

        async def targets(namespace: str, pipeline: str) -> list[str]:
            assert (namespace, pipeline) == (NAMESPACE, PIPELINE)
            return list(pods)

        source = RouterSource(targets=targets)
        exposition.text, other.text = counters({"canary": 10}), counters({"canary": 500})
        await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
        pods.append(other.url)  # a second router pod appears: primed, left out of this window
        exposition.text, other.text = counters({"canary": 30}), counters({"canary": 520})
        window = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
        assert window.samples["canary"].requests == 20
        exposition.text, other.text = counters({"canary": 40}), counters({"canary": 560})
        window = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
        assert window.samples["canary"].requests == 10 + 40
    finally:
        other.shutdown()
        other.server_close()


async def test_a_router_that_cannot_be_read_is_inconclusive_with_the_reason(exposition: Exposition) -> None:
    gone = await RouterSource(f"http://127.0.0.1:{free_port()}/metrics").measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert gone.error is not None
    assert gone.error.startswith(f"router metrics of {NAMESPACE}/{PIPELINE}: Cannot connect to host 127.0.0.1")
    assert judge(settings(), "stable", "canary", gone).verdict == "Inconclusive"
    exposition.status = 404
    missing = await RouterSource(exposition.url).measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert missing.error == f"router metrics of {NAMESPACE}/{PIPELINE}: HTTP 404 from {exposition.url}"
    exposition.status, exposition.text = 200, "<html>a login page</html>\n"
    garbled = await RouterSource(exposition.url).measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert garbled.error == f"router metrics of {NAMESPACE}/{PIPELINE}: invalid metric name:<html>a login page</html>"


async def test_the_router_metrics_url_comes_from_the_template_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, exposition: Exposition
) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    source = RouterSource()
    assert source.template == DEFAULT_TEMPLATE
    assert await source.targets("prod", "qa") == ["http://qa.prod.svc:80/metrics"]
    monkeypatch.setenv(ENV_URL, exposition.url)
    exposition.text = counters({"canary": 1})
    local = RouterSource()
    assert await local.targets("prod", "qa") == [exposition.url]
    assert (await local.measure("prod", "qa", VARIANTS, 30)).error == "first scrape: no window yet"


# -- Prometheus ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prometheus_binary() -> Path:
    target = next(t for t in toolchain.targets() if t.name == "prometheus")
    if not toolchain.is_built(target):
        why = "Prometheus is not built: run `make binaries` (or `python -m e2e.toolchain prometheus`)"
        if os.environ.get("EVOLVED_REQUIRE_CLUSTER", "") not in ("", "0", "false"):
            pytest.fail(f"{why} (EVOLVED_REQUIRE_CLUSTER=1 makes this a failure)", pytrace=False)
        pytest.skip(why)
    return toolchain.binary("prometheus")


def scraping(router: RouterProcess, workdir: Path) -> Any:
    labels = {"namespace": NAMESPACE, "pipeline": PIPELINE}
    return prometheus.running([prometheus.Target(f"127.0.0.1:{router.port}", labels)], workdir)


async def scraped_total(server: prometheus.Prometheus, total: int) -> None:
    """Wait until Prometheus holds a scrape with ``total`` requests routed (every variant)."""

    def seen() -> bool:
        rows = server.query(f'sum(evolved_router_requests_total{{pipeline="{PIPELINE}"}})')
        return bool(rows) and float(rows[0]["value"][1]) == total

    await asyncio.to_thread(wait_for, f"Prometheus to scrape {total} requests", seen, 30)


async def test_prometheus_gives_the_numbers_the_router_source_gives(
    start_router: StartRouter, workers: dict[str, Runtime], prometheus_binary: Path, tmp_path: Path
) -> None:
    router = split_router(start_router, workers["stable"].url, workers["canary"].url)
    with scraping(router, tmp_path / "prometheus") as server:
        warmup = await chats(router, 20)  # every series exists before the window starts
        await scraped_total(server, 20)
        await quiet_window(PrometheusSource(server.url))  # the window below reaches back into quiet time only
        direct = RouterSource(metrics_url(router))
        await direct.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
        started = time.monotonic()
        outcome = await chats(router, 400)
        assert warmup.errors == outcome.errors == []
        await scraped_total(server, 420)
        window_s = math.ceil(time.monotonic() - started) + 1
        from_router = await direct.measure(NAMESPACE, PIPELINE, VARIANTS, 60)
        from_prometheus = await PrometheusSource(server.url).measure(NAMESPACE, PIPELINE, VARIANTS, window_s)
    assert from_prometheus.error is None
    for variant in VARIANTS:
        exact, seen = from_router.samples[variant], from_prometheus.samples[variant]
        # increase() extrapolates to the window's edges: counts are a few percent high, shares exact
        assert seen.requests == pytest.approx(exact.requests, rel=0.25)
        assert seen.errors == 0
        assert seen.tiers["1"] / seen.requests == pytest.approx(1.0, abs=0.02)
        assert seen.solver_verdicts / seen.solver_answers == pytest.approx(1.0, abs=0.02)
        assert seen.p95_ms is not None
        assert exact.p95_ms is not None
        assert seen.p95_ms == pytest.approx(exact.p95_ms, rel=0.15)
    share = from_prometheus.samples["canary"].requests / sum(s.requests for s in from_prometheus.samples.values())
    assert share == pytest.approx(outcome.variants["canary"] / 400, abs=0.02)


@pytest.mark.parametrize(("candidate", "verdict"), [("healthy", "Passed"), ("flaky", "Failed")])
async def test_the_judge_on_prometheus_measurements_fails_a_candidate_with_20_percent_errors(
    start_router: StartRouter,
    backends: dict[str, Backend],
    prometheus_binary: Path,
    tmp_path: Path,
    candidate: str,
    verdict: str,
) -> None:
    router = split_router(start_router, backends["stable"].url, backends[candidate].url)
    with scraping(router, tmp_path / "prometheus") as server:
        await scraped_total(server, 0)  # the router's series exist (at 0) before the load
        started = time.monotonic()
        await chats(router, 500)
        await scraped_total(server, 500)
        window_s = math.ceil(time.monotonic() - started) + 2
        source = PrometheusSource(server.url)
        measurement = await source.measure(NAMESPACE, PIPELINE, VARIANTS, window_s)
        elsewhere = await source.measure(NAMESPACE, "other", VARIANTS, window_s)
        quiet = await quiet_window(source)
    result = judge(settings(maxErrorRate=5, maxErrorRateIncrease=2), "stable", "canary", measurement)
    assert result.verdict == verdict, result.message
    canary = measurement.samples["canary"]
    rate = 100 * canary.errors / canary.requests
    assert rate == pytest.approx(20.0 if candidate == "flaky" else 0.0, abs=1.0)
    assert elsewhere.error == (
        f'Prometheus at {server.url} has no evolved_router_requests_total series with namespace="{NAMESPACE}", '
        f'pipeline="other" in the last {window_s} s: does it scrape the router with those labels, '
        "more often than once a window?"
    )
    assert judge(settings(), "stable", "canary", elsewhere).verdict == "Inconclusive"
    # a window without traffic: increase() is 0 and histogram_quantile NaN, never a pass
    assert (quiet.samples["canary"].requests, quiet.samples["canary"].p95_ms) == (0, None)
    silent = judge(settings(maxP95LatencyMs=500), "stable", "canary", quiet)
    assert (silent.verdict, silent.message) == ("Inconclusive", "candidate variant canary served 0 request(s), "
                                                "fewer than the 50 needed")  # fmt: skip


async def quiet_window(source: PrometheusSource) -> Measurement:
    """A measurement over the last 3 s once no request came in them (waits for one, polling)."""
    deadline = time.monotonic() + 30
    while True:
        found = await source.measure(NAMESPACE, PIPELINE, VARIANTS, 3)
        if found.error is None and all(s.requests == 0 for s in found.samples.values()):
            return found
        assert time.monotonic() < deadline, f"no quiet window in 30 s: {found}"
        await asyncio.sleep(0.5)


async def test_an_unreachable_prometheus_is_inconclusive_never_a_pass() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    measurement = await PrometheusSource(url).measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert measurement.error is not None
    assert measurement.error.startswith(f"Prometheus at {url}: Cannot connect to host 127.0.0.1")
    result = judge(settings(maxErrorRate=5), "stable", "canary", measurement)
    assert (result.verdict, result.message) == ("Inconclusive", f"no measurement: {measurement.error}")


async def test_a_prometheus_that_refuses_the_query_is_inconclusive(exposition: Exposition) -> None:
    exposition.status, exposition.text = 503, "overloaded"
    base = exposition.url.removesuffix("/metrics")
    measurement = await PrometheusSource(base).measure(NAMESPACE, PIPELINE, VARIANTS, 30)
    assert measurement.error == f"Prometheus at {base}: HTTP 503 from {base}/api/v1/query"
