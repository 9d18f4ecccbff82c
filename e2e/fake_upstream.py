"""A fake OpenAI-compatible upstream: a real HTTP server on 127.0.0.1 that tests steer.

It answers ``POST /v1/chat/completions`` plainly or as an SSE stream, and can be told to be
slow, to fail with a status, to rate-limit with Retry-After, or to close idle keep-alive
connections quickly. It counts requests and closed connections so tests can wait on them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Behaviour:
    reply: str = "Hello from the fake upstream."
    delay_s: float = 0.0
    fail_status: int | None = None
    retry_after: str | None = None
    keepalive_s: float = 75.0


@dataclass
class FakeUpstream:
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: int = 0
    in_flight: int = 0
    connections_closed: int = 0
    last_body: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        try:
            body = await request.json()
            self.last_body = body
            b = self.behaviour
            if b.delay_s:
                await asyncio.sleep(b.delay_s)
            if b.fail_status is not None:
                headers = {"Retry-After": b.retry_after} if b.retry_after else None
                return web.json_response(
                    {"error": {"message": f"fake failure {b.fail_status}", "type": "fake", "code": "fake"}},
                    status=b.fail_status,
                    headers=headers,
                )
            if body.get("stream"):
                return await self._stream(request, body)
            return web.json_response(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": b.reply}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
                }
            )
        finally:
            self.in_flight -= 1

    async def _stream(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for word in self.behaviour.reply.split(" "):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body.get("model", "fake"),
                     "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}  # fmt: skip
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def start(self) -> FakeUpstream:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)

            async def setup() -> None:
                runner = web.AppRunner(app, keepalive_timeout=self.behaviour.keepalive_s, handler_cancellation=True)
                await runner.setup()
                server = runner.server
                assert server is not None
                original = server.connection_lost

                def counting(handler: Any, exc: BaseException | None = None) -> None:
                    self.connections_closed += 1
                    original(handler, exc)

                server.connection_lost = counting  # type: ignore[method-assign]
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
                self._runner = runner
                ready.set()

            loop.run_until_complete(setup())
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(10)
