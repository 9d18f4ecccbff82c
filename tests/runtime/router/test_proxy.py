"""The router as a real process in front of real HTTP servers: mirroring, keep-alive, streaming,
retries, ejection, its own paths and its flags."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from e2e.fake_upstream import Behaviour, FakeUpstream
from tests.runtime.conftest import free_port, http_status, wait_until
from tests.runtime.router.backend import Backend
from tests.runtime.router.conftest import StartRouter
from tests.runtime.router.load import hammer

CHAT = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'


def post(url: str, body: bytes = CHAT, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()}


async def test_mirroring_changes_no_answer_and_the_mirror_gets_its_share(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    primary = backends(body=b'{"answer":"from the primary"}', verdict=b"VALID")
    mirror = backends(body=b'{"answer":"from the mirror, never to be seen"}', verdict=b"NOT_VALID")
    _, direct, _ = post(primary.url + "/v1/chat/completions")
    router = start_router("--variant", f"stable={primary.url}", "--variant", f"canary={mirror.url}",
                          "--weight", "stable=100", "--mirror", "canary=50",
                          "--mirror-max-in-flight", "4096")  # fmt: skip  # none dropped on a busy machine

    sent = 2000
    bodies: set[bytes] = set()
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # a sample read byte for byte; the rest as load
            async with session.post(router.url + "/v1/chat/completions", data=CHAT) as response:
                assert response.headers["x-evolved-verdict"] == "VALID"
                bodies.add(await response.read())
    assert bodies == {direct}
    outcome = await hammer(router.url + "/v1/chat/completions", sent - 100, body=CHAT)
    assert outcome.errors == []
    assert outcome.variants == {"stable": sent - 100}

    def mirrored() -> float:
        return router.metrics().get('evolved_router_mirror_requests_total{result="sent",variant="canary"}', 0)

    await wait_until(lambda: mirror.requests == mirrored() and router.traffic()["mirror_in_flight"] == 0, timeout=20)
    assert 0.45 * sent < mirror.requests < 0.55 * sent  # 50% of 2,000: 4.5 standard deviations either way
    assert router.metrics().get('evolved_router_mirror_requests_total{result="dropped",variant="canary"}') == 0
    assert primary.requests == sent + 1
    samples = router.metrics()
    assert samples['evolved_router_shadow_comparisons_total{mirror="canary",primary="stable",result="disagree"}'] == (
        mirror.requests
    )
    assert samples['evolved_router_shadow_agreement_ratio{mirror="canary",primary="stable"}'] == 0.0
    assert samples['evolved_router_verdicts_total{variant="stable",verdict="VALID"}'] == sent


async def test_a_mirror_that_does_not_answer_neither_slows_the_clients_nor_holds_more_than_its_bound(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    primary, mirror = backends(), backends(hold=True)  # the mirror answers nothing until the gate opens
    router = start_router("--variant", f"stable={primary.url}", "--variant", f"canary={mirror.url}",
                          "--weight", "stable=100", "--mirror", "canary=100", "--mirror-max-in-flight", "3")  # fmt: skip
    outcome = await hammer(router.url + "/v1/chat/completions", 40, concurrency=2, body=CHAT)
    assert outcome.errors == []
    assert outcome.variants == {"stable": 40}
    samples = router.metrics()
    assert samples['evolved_router_mirror_requests_total{result="sent",variant="canary"}'] == 3
    assert samples['evolved_router_mirror_requests_total{result="dropped",variant="canary"}'] == 37
    assert router.traffic()["mirror_in_flight"] == 3
    mirror.gate.set()
    await wait_until(lambda: router.traffic()["mirror_in_flight"] == 0, timeout=20)
    assert mirror.requests == 3


async def test_a_keep_alive_connection_the_worker_closed_is_not_an_error(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    # The backend closes a connection when a second request arrives on it, unanswered: the race a
    # short keep-alive makes (LiteLLM answers 500 "Cannot write to closing transport" there).
    backend = backends(close_reused=True)
    router = start_router("--variant", f"stable={backend.url}")
    for _ in range(20):
        status, body, _ = post(router.url + "/v1/chat/completions")
        assert (status, body) == (200, backend.body)
    assert backend.reused_closed >= 19
    samples = router.metrics()
    assert sum(v for k, v in samples.items() if k.startswith("evolved_router_errors_total")) == 0
    assert router.traffic()["variants"][0]["endpoints"][0]["state"] == "healthy"


async def test_an_upstream_with_a_short_keep_alive_gets_no_error_after_idle_gaps(start_router: StartRouter) -> None:
    upstream = FakeUpstream(Behaviour(keepalive_s=0.2)).start()
    try:
        router = start_router("--variant", f"stable=http://127.0.0.1:{upstream.port}")
        client = openai.OpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
        for _ in range(5):
            closed = upstream.connections_closed
            reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content == "Hello from the fake upstream."
            # the upstream closes the router's idle connection before the next request
            await wait_until(lambda: upstream.connections_closed > closed, timeout=10)  # noqa: B023
        assert upstream.requests == 5
        samples = router.metrics()
        assert sum(v for k, v in samples.items() if k.startswith("evolved_router_errors_total")) == 0
    finally:
        upstream.stop()


async def test_connection_failures_are_retried_on_another_endpoint_and_the_dead_one_is_ejected(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    live = backends()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    router = start_router("--variant", f"stable={dead}", "--variant", f"stable={live.url}")
    outcome = await hammer(router.url + "/v1/chat/completions", 200, concurrency=4, body=CHAT)
    assert outcome.errors == []
    endpoints = {e["address"]: e["state"] for e in router.traffic()["variants"][0]["endpoints"]}
    assert endpoints[dead.removeprefix("http://")] in ("ejected", "probation")  # probation: its 5 s are over
    samples = router.metrics()
    assert samples['evolved_router_errors_total{class="connect",variant="stable"}'] >= 3
    assert samples['evolved_router_retries_total{variant="stable"}'] >= 3
    assert samples['evolved_router_ejections_total{variant="stable"}'] >= 1
    assert samples['evolved_router_responses_total{code="2xx",variant="stable"}'] == 200


async def test_a_variant_with_one_dead_endpoint_fails_over_to_another_variant(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    live = backends()
    dead = f"http://127.0.0.1:{free_port()}"
    router = start_router("--variant", f"stable={live.url}", "--variant", f"canary={dead}",
                          "--weight", "stable=50", "--weight", "canary=50")  # fmt: skip
    outcome = await hammer(router.url + "/v1/chat/completions", 100, concurrency=4, body=CHAT)
    assert outcome.errors == []
    assert outcome.variants == {"stable": 100}


async def test_when_no_endpoint_answers_the_client_gets_a_502_in_openais_error_format(
    start_router: StartRouter,
) -> None:
    router = start_router("--variant", f"stable=http://127.0.0.1:{free_port()}")
    status, body, _ = post(router.url + "/v1/chat/completions")
    assert status == 502
    assert json.loads(body)["error"]["code"] == "upstream_unavailable"


def test_traffic_shows_the_table_and_put_changes_the_weights(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    a, b = backends(), backends()
    router = start_router("--variant", f"a={a.url}", "--variant", f"b={b.url}", "--weight", "a=90", "--weight", "b=10",
                          "--sticky-header", "X-User", "--mirror", "b=5")  # fmt: skip
    traffic: dict[str, Any] = router.traffic()
    assert traffic["source"] == "flags"
    assert traffic["weights"] == {"a": 90, "b": 10}
    assert traffic["sticky"] == {"header": "x-user", "openAIUser": False}
    assert traffic["mirror"] == {"variant": "b", "percent": 5}
    assert traffic["variants"][0]["endpoints"] == [{"address": a.url.removeprefix("http://"), "state": "healthy"}]

    def put(document: Any) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(router.url + "/traffic", data=json.dumps(document).encode(), method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, refused = put({"weights": {"a": 20, "b": 70}})
    assert (status, refused["error"]["message"]) == (400, "weights must sum to 100, they sum to 90")
    assert refused["error"]["code"] == "invalid_weights"  # OpenAI's error shape, as every answer of the router
    assert put({"weights": {"c": 100}})[0] == 400
    assert put({"weights": "a=100"})[0] == 400
    assert put({"weights": {"a": True, "b": 99}})[0] == 400  # a JSON boolean is no weight (it was taken as 1)
    assert router.traffic()["weights"] == {"a": 90, "b": 10}
    status, after = put({"weights": {"b": 100}})
    assert status == 200
    assert after["weights"] == {"a": 0, "b": 100}
    assert after["updated_at"] > traffic["updated_at"]
    assert post(router.url + "/v1/chat/completions")[2]["x-evolved-variant"] == "b"


INVALID_FLAGS = {
    "no variant and no pipeline": [],
    "weights not summing to 100": ["--variant", "a=http://127.0.0.1:1", "--weight", "a=50"],
    "a mirror of an unknown variant": ["--variant", "a=http://127.0.0.1:1", "--mirror", "b=10"],
    "a flags-mode setting in Kubernetes mode": ["--pipeline", "p", "--namespace", "n", "--weight", "a=100"],
    "a port that is not a number": ["--variant", "a=http://127.0.0.1:1", "--port", "eighty"],
}


@pytest.mark.parametrize("flags", list(INVALID_FLAGS.values()), ids=list(INVALID_FLAGS))
def test_invalid_flags_exit_2_with_a_clear_message(flags: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "evolved_runtime.cli", "router", *flags],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(("evolved-runtime router: ", "usage: ", "evolved-runtime router: error: ")), message
    assert len(message) > 30, message


@pytest.mark.parametrize("sigterm", [False, True], ids=["as it is", "with a SIGTERM in the middle"])
async def test_a_stream_passes_through_chunk_by_chunk(
    start_router: StartRouter, backends: Callable[..., Backend], sigterm: bool
) -> None:
    # The backend sends its second chunk only once the client has read the first one: if the
    # router held the answer back, the client would never see the first chunk and the gate would
    # not open. On SIGTERM the router stops listening and lets the stream finish, then exits 0.
    backend = backends()
    router = start_router("--variant", f"stable={backend.url}")
    async with aiohttp.ClientSession() as session, session.get(router.url + "/stream") as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert await response.content.readuntil(b"\n\n") == b"data: first\n\n"
        if sigterm:
            router.process.process.send_signal(signal.SIGTERM)
            await wait_until(lambda: http_status(router.url + "/healthz")[0] == 0, timeout=10)  # not listening
        backend.gate.set()
        assert await response.content.read() == b"data: last\n\ndata: [DONE]\n\n"
    assert backend.gate_opened is True
    if sigterm:
        assert router.process.process.wait(10) == 0


async def exchange(port: int, *messages: bytes, until: bytes = b"") -> bytes:
    """Write ``messages`` on one connection and read until ``until`` appears (or the connection ends)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for message in messages:
            writer.write(message)
        data = b""
        while until not in data or not until:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        writer.close()


async def test_http_11_details_chunked_bodies_expect_head_unframed_answers_and_huge_heads(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    backend = backends(body=b"0123456789")
    router = start_router("--variant", f"stable={backend.url}")

    # a chunked request body reaches the worker whole, with a content-length; hop-by-hop headers stay behind
    chunked = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: r\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n"
               b"x-user: u1\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")  # fmt: skip
    answer = await exchange(router.port, chunked, until=b"0123456789")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\nx-evolved-variant: stable\r\n")
    assert backend.last_request == b"POST /v1/chat/completions\nhost: r\nx-user: u1\ncontent-length: 5\nabcde"

    # Expect: 100-continue gets its interim answer before the body is sent
    reader, writer = await asyncio.open_connection("127.0.0.1", router.port)
    writer.write(b"POST /x HTTP/1.1\r\nhost: r\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n")
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10) == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"body")
    assert (await asyncio.wait_for(reader.readuntil(b"0123456789"), 10)).startswith(b"HTTP/1.1 200 OK")
    assert backend.last_request.endswith(b"content-length: 4\nbody")
    writer.close()

    # HEAD: a head without a body, and the connection goes on
    answer = await exchange(router.port, b"HEAD /x HTTP/1.1\r\nhost: r\r\n\r\nGET /y HTTP/1.1\r\nhost: r\r\n\r\n",
                            until=b"0123456789")  # fmt: skip
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.count(b"0123456789") == 1

    # an answer without length ends with its connection, and so does the client's
    answer = await exchange(router.port, b"GET /unframed HTTP/1.1\r\nhost: r\r\n\r\n")
    assert answer.endswith(b"\r\n\r\n0123456789")

    # a request head past 64 KiB: 431
    huge = b"GET / HTTP/1.1\r\nhost: r\r\nx-big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert (await exchange(router.port, huge)).startswith(b"HTTP/1.1 431 ")
    samples = router.metrics()
    assert sum(v for k, v in samples.items() if k.startswith("evolved_router_errors_total")) == 0


def test_in_kubernetes_mode_without_an_api_the_router_waits_unhealthy_and_answers_503(
    start_router: StartRouter, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"  # an apiserver that is not there
    server = f"https://127.0.0.1:{free_port()}"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "unused"}}],
    }))  # fmt: skip
    router = start_router("--pipeline", "qa", "--namespace", "ns", "--kubeconfig", str(kubeconfig), healthy=False)
    status, body, _ = post(router.url + "/v1/chat/completions")
    assert status == 503
    assert json.loads(body)["error"]["code"] == "no_variant"
    traffic = router.traffic()
    assert (traffic["source"], traffic["variants"], traffic["updated_at"]) == ("kubernetes", [], None)


def test_a_worker_answering_an_endless_head_or_a_nan_cost_gets_a_502_and_spoils_nothing(
    start_router: StartRouter, backends: Callable[..., Backend]
) -> None:
    backend = backends(head=b"x-big: " + b"a" * (4 << 20) + b"\r\n")
    router = start_router("--variant", f"stable={backend.url}", "--response-timeout", "20")
    status, body, _ = post(router.url + "/v1/chat/completions")
    assert status == 502, body[:200]  # the router forwarded the 4 MiB head (and held it all in memory)
    assert b"over 65536 bytes" in body
    for cost in (b"NaN", b"inf", b"-1", b"0.25"):
        backend.head = b"x-evolved-cost-usd: %s\r\n" % cost
        status, body, _ = post(router.url + "/v1/chat/completions")  # served: the big answer left no stalled connection
        assert (status, body) == (200, backend.body)
    assert router.metrics()['evolved_router_cost_usd_total{variant="stable"}'] == 0.25  # NaN stayed in the sum
