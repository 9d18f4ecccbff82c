"""Fake LLM upstreams: real HTTP servers on 127.0.0.1 that tests steer, request by request.

One server answers both shapes: OpenAI's ``POST /v1/chat/completions`` and Anthropic's
``POST /v1/messages`` (its ``base_url`` is ``.../v1`` for either), plainly or as a stream.
``behaviour`` is the standing answer; ``script`` holds one ``Step`` per coming request (taken
in order, then the behaviour again), each able to be slow, fail with a status and
``Retry-After``, send malformed JSON, truncate or break a stream, hang, or drop the connection.
It counts requests, closed connections and streams the client abandoned, so tests wait on them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
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
class Step:
    """What one request gets (unset fields: the standing behaviour)."""

    status: int | None = None  # an error status (with an error body)
    delay_s: float = 0.0  # before the answer's head
    retry_after: str | None = None
    malformed: bool = False  # a 200 whose body is not JSON
    truncate_after: int | None = None  # a stream: this many chunks, then the end without [DONE]
    hang_after: int | None = None  # a stream: this many chunks, then silence (plain: no answer at all)
    chunk_delay_s: float = 0.0  # between stream chunks
    drop: bool = False  # close the connection without an answer
    reply: str | None = None


@dataclass
class FakeUpstream:
    behaviour: Behaviour = field(default_factory=Behaviour)
    script: deque[Step] = field(default_factory=deque)
    requests: int = 0
    in_flight: int = 0
    connections_closed: int = 0
    streams_abandoned: int = 0
    last_body: dict[str, Any] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _step(self) -> Step:
        if self.script:
            return self.script.popleft()
        b = self.behaviour
        return Step(status=b.fail_status, delay_s=b.delay_s, retry_after=b.retry_after)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        anthropic = request.path.endswith("/messages")
        self.paths.append(request.path)
        try:
            body = await request.json()
            self.last_body = body
            step = self._step()
            if step.delay_s:
                await asyncio.sleep(step.delay_s)
            if step.drop:
                assert request.transport is not None
                request.transport.close()
                await asyncio.sleep(3600)
            if step.status is not None:
                headers = {"Retry-After": step.retry_after} if step.retry_after else None
                return web.json_response(
                    {"error": {"message": f"fake failure {step.status}", "type": "fake", "code": "fake"}},
                    status=step.status,
                    headers=headers,
                )
            if step.hang_after is not None and not body.get("stream"):
                await asyncio.sleep(3600)
            reply = step.reply if step.reply is not None else self.behaviour.reply
            if step.malformed:
                return web.Response(body=b'{"choices": [', content_type="application/json")
            if body.get("stream"):
                return await self._stream(request, body, step, reply, anthropic)
            return web.json_response(self._anthropic(body, reply) if anthropic else self._openai(body, reply))
        finally:
            self.in_flight -= 1

    @staticmethod
    def _openai(body: dict[str, Any], reply: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
        }

    @staticmethod
    def _anthropic(body: dict[str, Any], reply: str) -> dict[str, Any]:
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model", "fake"),
                "content": [{"type": "text", "text": reply}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 4, "output_tokens": 6}}  # fmt: skip

    def _events(self, body: dict[str, Any], reply: str, anthropic: bool) -> tuple[list[bytes], list[bytes]]:
        """(the chunks carrying text, the closing events)."""
        model = body.get("model", "fake")
        words = [w + " " for w in reply.split(" ")]
        if anthropic:
            start = {"type": "message_start", "message": {"model": model, "usage": {"input_tokens": 4}}}
            chunks = [json.dumps({"type": "content_block_delta", "delta": {"type": "text_delta", "text": w}})
                      for w in words]  # fmt: skip
            closing = [json.dumps({"type": "message_delta", "usage": {"output_tokens": 6}}),
                       json.dumps({"type": "message_stop"})]  # fmt: skip
            as_data = [b"event: x\ndata: " + c.encode() + b"\n\n" for c in [json.dumps(start), *chunks]]
            return as_data, [b"event: x\ndata: " + c.encode() + b"\n\n" for c in closing]
        out = []
        for w in words:
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model,
                     "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}  # fmt: skip
            out.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        end: list[bytes] = []
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
                     "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}  # fmt: skip
            end.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
        end.append(b"data: [DONE]\n\n")
        return out, end

    async def _stream(
        self, request: web.Request, body: dict[str, Any], step: Step, reply: str, anthropic: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunks, end = self._events(body, reply, anthropic)
        try:
            for index, chunk in enumerate(chunks):
                if step.truncate_after is not None and index >= step.truncate_after:
                    await response.write_eof()
                    return response
                if step.hang_after is not None and index >= step.hang_after:
                    await asyncio.sleep(3600)
                if step.chunk_delay_s and index:
                    await asyncio.sleep(step.chunk_delay_s)
                await response.write(chunk)
            for event in end:
                await response.write(event)
            await response.write_eof()
        except (asyncio.CancelledError, ConnectionResetError):
            self.streams_abandoned += 1
            raise
        return response

    def start(self) -> FakeUpstream:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._handle)
            app.router.add_post("/v1/messages", self._handle)

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
                await self._runner.shutdown()
                await self._runner.cleanup()
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(10)
