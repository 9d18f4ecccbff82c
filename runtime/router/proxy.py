"""The reverse proxy: client connections, the routing of each request, retries and mirroring.

Built on asyncio Protocols (run on uvloop) with httptools parsing both sides, and the
keep-alive pools of :mod:`evolved_runtime.router.upstream`: no framework, no per-request task
on the path where a pooled connection is free (a task only to open a new connection). A request
is read whole (bodies are JSON, and a retry or a mirror needs them); the answer is written to
the client as its bytes arrive, with one header added to its head, ``x-evolved-variant``.

Retry policy: a request whose attempt fails with a connection failure before any byte of the
answer arrived (refused, reset, connect timeout, closed) is sent once more, to another endpoint
of the same variant, or when the variant has no other one, to another variant that takes
traffic (picked like the first: by the sticky key among the others, else by weight). A reused keep-alive connection that the worker had closed is not a
failure of the worker: the request is sent again on a fresh connection to the same endpoint,
once, before the retry above. Nothing is retried once a byte of the answer has arrived, nor
after a timeout waiting for the answer (the worker may still be working on it): 504.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field

import httptools
import orjson

from evolved_runtime.router import admin, shadow
from evolved_runtime.router.endpoints import Endpoints
from evolved_runtime.router.metrics import RouterStats, VariantStats
from evolved_runtime.router.outlier import Policy
from evolved_runtime.router.pick import Split
from evolved_runtime.router.responses import error_response
from evolved_runtime.router.table import Address, Table, Variant
from evolved_runtime.router.upstream import Connection, Pool

# hop-by-hop headers and the framing the proxy sets itself: not forwarded to the worker
NOT_FORWARDED = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
     b"content-length", b"expect")
)  # fmt: skip
MAX_BODY = 32 * 1024 * 1024
MAX_HEAD = 64 * 1024  # request line and headers
MAX_PIPELINED = 16  # requests read ahead on one connection before reading pauses
CLIENT_IDLE_S = 120.0  # a client connection with no request in flight that sends nothing this long is closed
WITHOUT_BODY = frozenset((b"GET", b"HEAD", b"DELETE", b"OPTIONS"))


@dataclass(frozen=True, slots=True)
class Options:
    connect_timeout_s: float = 2.0
    response_timeout_s: float = 300.0  # until the answer's head; a stream then runs as long as it runs
    idle_timeout_s: float = 30.0  # a pooled connection idle longer is closed instead of used
    max_idle_per_endpoint: int = 256
    mirror_in_flight: int = 64  # mirrored requests in flight at most; more are dropped (and counted)
    ejection: Policy = field(default_factory=Policy)


def openai_user(body: bytes) -> bytes | None:
    """The JSON body's ``user`` field, the sticky key with ``--sticky-openai-user`` (parsed only
    when the body mentions it)."""
    if b'"user"' not in body:
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    user = value.get("user") if isinstance(value, dict) else None
    return user.encode() if isinstance(user, str) and user else None


class Request:
    __slots__ = ("data", "head_only", "keep_alive", "key", "method", "path", "received_at")

    def __init__(self, method: bytes, path: bytes, data: bytes, keep_alive: bool, key: bytes | None) -> None:
        self.method = method
        self.path = path
        self.data = data  # the request as sent to a worker
        self.keep_alive = keep_alive
        self.key = key
        self.head_only = method == b"HEAD"
        self.received_at = 0.0


class Router:
    """The state every connection shares: the table, endpoint health, pools and counters."""

    def __init__(self, table: Table, options: Options | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.options = options or Options()
        self.endpoints = Endpoints(self.options.ejection)
        self.pools: dict[Address, Pool] = {}
        self.shadow = shadow.ShadowBook()
        self.stats = RouterStats(self.shadow, self._gauges)
        self.mirror_in_flight = 0
        self.active = 0  # clients' requests in flight (a stop waits for them)
        # exchanges waiting for an answer's head, with their deadlines: one sweep a second times
        # them out (cheaper on the hot path than a timer per request; deadlines are coarse anyway)
        self.waiting: dict[Exchange, float] = {}
        self.variant_header: dict[str, bytes] = {}  # the head line added to the answers of each variant
        self.clients: set[ClientConnection] = set()
        self.loaded = False  # a table with variants has arrived (GET /healthz is 503 until then)
        self.sweeper = self.loop.create_task(self._sweep())
        self.set_table(table)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = self.loop.time()
            for exchange in [e for e, deadline in self.waiting.items() if deadline <= now]:
                del self.waiting[exchange]
                exchange.timed_out()
            idle = now - CLIENT_IDLE_S
            for client in [c for c in self.clients if c.exchange is None and c.active_at < idle]:
                client.close()

    def set_table(self, table: Table) -> None:
        self.table = table
        self.loaded = self.loaded or bool(table.variants)
        self.split = Split.of(table.weights())
        self.by_name = {v.name: v for v in table.variants}
        for v in table.variants:  # kept for variants that left: requests in flight may still answer for them
            if v.name not in self.variant_header:
                self.variant_header[v.name] = b"x-evolved-variant: %s\r\n" % v.name.encode()
        self.sticky_header = table.sticky.header.encode() if table.sticky.header else None
        addresses = {e for v in table.variants for e in v.endpoints}
        for gone in [a for a in self.pools if a not in addresses]:
            self.pools.pop(gone).close()
        self.endpoints.forget_except(addresses)

    def pool(self, address: Address) -> Pool:
        pool = self.pools.get(address)
        if pool is None:
            o = self.options
            pool = self.pools[address] = Pool(address, o.connect_timeout_s, o.idle_timeout_s, o.max_idle_per_endpoint)
        return pool

    def choose(self, key: bytes | None) -> Variant | None:
        name = self.split.pick(key)
        variant = self.by_name.get(name) if name is not None else None
        if variant is None or not variant.endpoints:
            return self.failover(name, key)
        return variant

    def failover(self, instead_of: str | None, key: bytes | None) -> Variant | None:
        """Another variant that takes traffic and has endpoints, picked like the first (None: there is none)."""
        others = {v.name: v.weight for v in self.table.variants if v.name != instead_of and v.endpoints and v.weight}
        name = Split.of(others).pick(key)
        return None if name is None else self.by_name[name]

    def mirror(self, request: Request, primary: str) -> shadow.ShadowPair | None:
        """Send a copy of ``request`` to the mirror variant if it is one to copy; its shadow pair."""
        mirror = self.table.mirror
        if mirror is None or not shadow.mirrors(mirror, primary, random.random()):
            return None
        stats = self.stats.of(mirror.variant)
        target = self.by_name.get(mirror.variant)
        if target is None or not target.endpoints or self.mirror_in_flight >= self.options.mirror_in_flight:
            stats.mirror["dropped"] += 1
            return None
        pair = shadow.ShadowPair(self.shadow, primary, mirror.variant)
        self.mirror_in_flight += 1
        stats.mirror["sent"] += 1
        Exchange(self, None, request, target, pair).start()
        return pair

    def _gauges(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        now = self.loop.time()
        states: dict[tuple[str, str], int] = {}
        for v in self.table.variants:
            for e in v.endpoints:
                key = (v.name, self.endpoints.state(e, now))
                states[key] = states.get(key, 0) + 1
        return self.table.weights(), states


class Exchange:
    """One request to a worker, through its retries: the client's (``client`` set) or a mirrored
    copy (``client`` None: the answer is read and dropped, only its verdict kept)."""

    __slots__ = ("client", "connection", "cost", "endpoint", "head_written", "held", "pair", "reported", "request",
                 "retried", "router", "stale_retried", "stats", "status", "tier", "variant", "verdict")  # fmt: skip

    def __init__(
        self, router: Router, client: ClientConnection | None, request: Request, variant: Variant,
        pair: shadow.ShadowPair | None,
    ) -> None:  # fmt: skip
        self.router = router
        self.client = client
        self.request = request
        self.variant = variant
        self.stats: VariantStats = router.stats.of(variant.name)
        self.pair = pair
        self.endpoint: Address | None = None
        self.connection: Connection | None = None
        self.status = 0
        self.tier: bytes | None = None
        self.verdict: bytes | None = None
        self.cost: bytes | None = None
        self.held: list[bytes] = []
        self.head_written = False
        self.retried = False
        self.stale_retried = False
        self.reported = False

    def start(self) -> None:
        self.endpoint = self.router.endpoints.choose(self.variant, self.router.loop.time())
        if self.endpoint is None:
            self._give_up("no_endpoint", 503, f"variant {self.variant.name} has no endpoint")
        else:
            self._attempt(fresh=False)

    # sending

    def _attempt(self, fresh: bool) -> None:
        assert self.endpoint is not None
        pool = self.router.pool(self.endpoint)
        connection = None if fresh else pool.take()
        if connection is not None:
            self._send(connection)
        else:
            self.router.loop.create_task(self._connect(pool))

    async def _connect(self, pool: Pool) -> None:
        try:
            connection = await pool.connect()
        except TimeoutError:
            self._failed("connect_timeout")
            return
        except OSError:
            self._failed("connect")
            return
        if self.reported:  # the client went away meanwhile
            pool.release(connection)
        else:
            self._send(connection)

    def _send(self, connection: Connection) -> None:
        self.connection = connection
        try:
            connection.send(self, self.request.data)
        except RuntimeError:  # uvloop: the transport closed under us (the worker ended an idle connection)
            self.connection = None
            connection.abort()
            self._failed("reset", connection.reused)
            return
        router = self.router
        router.waiting[self] = router.loop.time() + router.options.response_timeout_s

    # upstream.Receiver

    def on_header(self, name: bytes, value: bytes) -> None:
        if name[0] | 0x20 == 0x78 and name[:10].lower() == b"x-evolved-":  # "x" or "X" first: cheap to rule out
            name = name.lower()
            if name == b"x-evolved-verdict":
                self.verdict = value
            elif name == b"x-evolved-tier":
                self.tier = value
            elif name == b"x-evolved-cost-usd":
                self.cost = value

    def on_head(self, status: int) -> bool:
        self.status = status
        self.router.waiting.pop(self, None)
        endpoints = self.router.endpoints
        if endpoints.health:  # only endpoints that failed lately have a state to change
            assert self.endpoint is not None
            endpoints.succeeded(self.endpoint, self.router.loop.time())
        return self.request.head_only

    def on_data(self, data: bytes) -> None:
        client = self.client
        if client is None or client.transport is None:
            return
        if self.head_written:
            client.transport.write(data)
        elif self.status:  # the head is complete: send it with the variant's header after the status line
            if self.held:
                data = b"".join((*self.held, data))
                self.held = []
            cut = data.index(b"\r\n") + 2
            client.transport.write(b"".join((data[:cut], self.router.variant_header[self.variant.name], data[cut:])))
            self.head_written = True
        else:
            self.held.append(data)
            if sum(map(len, self.held)) > MAX_HEAD:  # a worker's endless head: bounded like a client's
                self._head_too_large()

    def _head_too_large(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.abort()
        self.held = []
        self._stop_waiting()
        self._count_failure("midstream")
        self._give_up(None, 502, f"the worker's answer head is over {MAX_HEAD} bytes")

    def on_done(self, connection: Connection) -> None:
        self.connection = None
        client = self.client
        if client is not None and client.writing_paused and not connection.closed and connection.transport:
            # the answer ended in the read that filled the client's buffer: the connection goes
            # back to the pool, and must not stay paused (its next answer would never be read)
            connection.transport.resume_reading()
        if connection.closed and not connection.framed and not connection.head_only:
            # an answer that ends with its connection (no length, not chunked): so must the client's
            self.request.keep_alive = False
        stats = self.stats
        if self.status >= 500:
            stats.errors["upstream_5xx"] += 1
        if self.tier is not None:
            stats.tiers[self.tier.decode("latin-1")] += 1
        if self.verdict is not None:
            stats.verdicts[self.verdict.decode("latin-1")] += 1
        if self.cost is not None:
            with contextlib.suppress(ValueError):  # not a number: no cost
                cost = float(self.cost)
                if 0 <= cost < math.inf:  # a NaN or infinity would stay in the sum for good
                    stats.cost_usd += cost
        self._report(self.status, self.verdict)

    def on_lost(self, connection: Connection, answered: bool) -> None:
        self.connection = None
        if answered:
            self._stop_waiting()
            self._count_failure("midstream")
            if self.head_written:
                if self.client is not None:
                    self.client.abort()  # ends this exchange through client_gone
            else:
                self._give_up(None, 502, "the worker closed the connection in the middle of its answer")
            return
        self._failed("reset", connection.reused)

    # failures

    def _stop_waiting(self) -> None:
        self.router.waiting.pop(self, None)

    def timed_out(self) -> None:
        if self.connection is not None:
            self.connection.abort()
            self.connection = None
        self._give_up("timeout", 504, f"no answer from variant {self.variant.name} in "
                      f"{self.router.options.response_timeout_s:g} s")  # fmt: skip

    def _count_failure(self, kind: str) -> None:
        self.stats.errors[kind] += 1
        assert self.endpoint is not None
        if self.router.endpoints.failed(self.endpoint, self.router.loop.time()):
            self.router.stats.ejections[self.variant.name] += 1

    def _failed(self, kind: str, reused: bool = False) -> None:
        self._stop_waiting()
        if self.reported:
            return
        if reused and not self.stale_retried:  # a keep-alive connection the worker had closed
            self.stale_retried = True
            self._attempt(fresh=True)
            return
        self._count_failure(kind)
        if self.client is not None and not self.retried:
            self.retried = True
            router = self.router
            endpoint = router.endpoints.choose(self.variant, router.loop.time(), exclude=self.endpoint)
            if endpoint is None:
                other = router.failover(self.variant.name, self.request.key)
                if other is not None:
                    self.variant = other
                    self.stats = router.stats.of(other.name)
                    endpoint = router.endpoints.choose(other, router.loop.time())
            if endpoint is not None:
                self.stats.retries += 1
                self.endpoint = endpoint
                self._attempt(fresh=False)
                return
        self._give_up(None, 502, f"variant {self.variant.name}: {kind} failure talking to {self._where()}")

    def _where(self) -> str:
        return "no endpoint" if self.endpoint is None else f"{self.endpoint[0]}:{self.endpoint[1]}"

    def _give_up(self, kind: str | None, status: int, message: str) -> None:
        if kind is not None:
            self.stats.errors[kind] += 1
        client = self.client
        if client is not None and client.transport is not None and not self.head_written:
            code = {502: "upstream_unavailable", 503: "no_endpoint", 504: "upstream_timeout"}[status]
            client.transport.write(error_response(status, code, message, self.request.keep_alive))
            self.head_written = True
        self._report(status, None)

    def _report(self, status: int, verdict: bytes | None) -> None:
        """The end of the exchange, whatever it was: counters, the shadow pair, the client's next request."""
        if self.reported:
            return
        self.reported = True
        self._stop_waiting()
        stats = self.stats
        client = self.client
        if client is None:
            self.router.mirror_in_flight -= 1
            if status == 0 or status >= 500:
                stats.mirror["failed"] += 1
        else:
            self.router.active -= 1
            stats.requests += 1
            if status:
                stats.answered(status, time.perf_counter() - self.request.received_at)
        if self.pair is not None:
            self.pair.answered(0 if client is not None else 1, verdict)
        if client is not None:
            client.finished()

    def client_gone(self) -> None:
        if self.connection is not None:
            self.connection.abort()
            self.connection = None
        self.client = None
        if not self.reported:
            self.reported = True
            self._stop_waiting()
            self.router.active -= 1
            self.stats.requests += 1
            if self.pair is not None:
                self.pair.answered(0, None)


class ClientConnection(asyncio.Protocol):
    """One client's connection: parse requests (in order, a few read ahead), route each, answer."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.exchange: Exchange | None = None
        self.pending: deque[Request] = deque()
        self.reading_paused = False
        self.writing_paused = False
        self.active_at = 0.0  # when the client last sent something (an idle connection is closed)
        # the request being parsed
        self.url = b""
        self.head: list[bytes] = []
        self.head_size = 0
        self.body: list[bytes] = []
        self.body_size = 0
        self.key: bytes | None = None
        self.expect_continue = False
        self.keep_alive = True

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.active_at = self.router.loop.time()
        self.router.clients.add(self)

    def data_received(self, data: bytes) -> None:
        self.active_at = self.router.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(501, "upgrade", "connection upgrades (WebSocket, h2c) are not supported by the router")
        except httptools.HttpParserError as exc:
            if self.head_size > MAX_HEAD:
                self._refuse(431, "headers_too_large", f"request line and headers are limited to {MAX_HEAD} bytes")
            else:
                self._refuse(400, "bad_request", f"the request is not valid HTTP/1.1: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.router.clients.discard(self)
        self.transport = None
        self.pending.clear()
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.client_gone()

    def pause_writing(self) -> None:
        self.writing_paused = True
        connection = self.exchange.connection if self.exchange is not None else None
        if connection is not None and connection.transport is not None:
            connection.transport.pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        connection = self.exchange.connection if self.exchange is not None else None
        if connection is not None and connection.transport is not None:
            connection.transport.resume_reading()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.url = b""
        self.head = []
        self.head_size = 0
        self.body = []
        self.body_size = 0
        self.key = None
        self.expect_continue = False

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value)
        if self.head_size > MAX_HEAD:
            raise ValueError("request head too large")  # httptools stops parsing; data_received answers 431
        lower = name.lower()
        if lower in NOT_FORWARDED:
            if lower == b"expect" and value.lower() == b"100-continue":
                self.expect_continue = True
            return
        self.head += (name, b": ", value, b"\r\n")
        if lower == self.router.sticky_header:
            self.key = value

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # only meaningful until the message completes
        if self.expect_continue and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size <= MAX_BODY:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.transport is None:  # closed while more requests were being parsed
            return
        parser = self.parser
        method = parser.get_method()
        body = b"".join(self.body)
        if body or method not in WITHOUT_BODY:
            self.head.append(b"content-length: %d\r\n" % len(body))
        key = self.key
        if key is None and body and self.router.table.sticky.openai_user:
            key = openai_user(body)
        url = self.url
        data = b"".join((method, b" ", url, b" HTTP/1.1\r\n", *self.head, b"\r\n", body))
        request = Request(method, url.partition(b"?")[0], data, self.keep_alive, key)
        if self.body_size > MAX_BODY:
            self._refuse(413, "too_large", f"request bodies are limited to {MAX_BODY} bytes")
            return
        if self.exchange is None and not self.pending:
            self._dispatch(request)
        else:
            self.pending.append(request)
            if len(self.pending) >= MAX_PIPELINED and self.transport is not None:
                self.transport.pause_reading()
                self.reading_paused = True

    # routing

    def _dispatch(self, request: Request) -> None:
        router = self.router
        request.received_at = time.perf_counter()
        if request.path in ADMIN_PATHS:
            self._answer_locally(request)
            return
        variant = router.choose(request.key)
        if variant is None:
            self._write(
                error_response(503, "no_variant", "no variant with endpoints takes traffic", request.keep_alive)
            )
            self._next(request)
            return
        exchange = self.exchange = Exchange(router, self, request, variant, None)
        router.active += 1
        exchange.start()  # the client's request leaves first; its copy, if any, after it
        if router.table.mirror is not None and not exchange.reported:
            exchange.pair = router.mirror(request, variant.name)

    def _answer_locally(self, request: Request) -> None:
        self._write(admin.answer(self.router, request, self._peer()))
        self._next(request)

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return str(peer[0]) if peer else ""

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def finished(self) -> None:
        """The current exchange is over (answered or given up)."""
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            self._next(exchange.request)

    def _next(self, request: Request) -> None:
        if not request.keep_alive:
            self.close()
        elif self.pending:
            self._dispatch(self.pending.popleft())
        elif self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()

    def abort(self) -> None:
        """End the connection at once (an answer broke off mid-way: the client must see the
        connection end, not a short answer)."""
        exchange, self.exchange = self.exchange, None
        self.pending.clear()
        if exchange is not None:
            exchange.client_gone()
        if self.transport is not None:
            self.transport.abort()
            self.transport = None

    def close(self) -> None:
        self.pending.clear()
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer a request that cannot be served and close (abort when answers are still due)."""
        if self.exchange is not None or self.pending:
            self.abort()
        else:
            self._write(error_response(status, code, message, keep_alive=False))
            self.close()


ADMIN_PATHS = frozenset((b"/metrics", b"/healthz", b"/traffic"))
