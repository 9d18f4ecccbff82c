"""POST /v1/chat/completions: OpenAI's chat format in, the pipeline's answer out (plain or SSE)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response, StreamingResponse

from evolved_runtime import logs, metrics
from evolved_runtime.api.errors import openai_error
from evolved_runtime.api.health import state_of
from evolved_runtime.errors import ServiceError
from evolved_runtime.limits import check_messages
from evolved_runtime.llm.base import LLMError
from evolved_runtime.pipeline import ChatTurn, PipelineResult
from evolved_runtime.state import RuntimeState

router = APIRouter()
log = logging.getLogger("evolved_runtime.chat")
PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "user")


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if isinstance(p, dict))
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = ""
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    metadata: dict[str, Any] | None = None


class JsonBytes(Response):
    """A 200 whose JSON body is already encoded and whose extra headers are already bytes: skips
    ``Response``'s header building (lower-casing, encoding, look-ups) on the hot path."""

    def __init__(self, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)), *headers]


def _completion(rid: str, model: str, result: PipelineResult) -> bytes:
    content = result.content or ""
    usage = result.usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return orjson.dumps(
        {
            "id": f"chatcmpl-{rid}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": usage,
            "evolved": result.evolved,
        }
    )


def _chunk(
    rid: str, model: str, delta: dict[str, Any], finish: str | None, extra: dict[str, Any] | None = None
) -> bytes:
    body: dict[str, Any] = {
        "id": f"chatcmpl-{rid}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if extra:
        body.update(extra)
    return b"data: " + orjson.dumps(body) + b"\n\n"


async def _sse(rid: str, model: str, result: PipelineResult, done: Any) -> AsyncIterator[bytes]:
    status = "200"
    try:
        yield _chunk(rid, model, {"role": "assistant", "content": ""}, None)
        if result.deltas is not None:
            try:
                async for delta in result.deltas:
                    yield _chunk(rid, model, {"content": delta}, None)
            except LLMError as exc:
                status = str(exc.status)
                err = {"error": {"message": exc.message, "type": exc.type, "code": exc.code}}
                yield b"data: " + orjson.dumps(err) + b"\n\n"
                return
        elif result.content:
            yield _chunk(rid, model, {"content": result.content}, None)
        yield _chunk(rid, model, {}, "stop", {"evolved": result.evolved})
        yield b"data: [DONE]\n\n"
    finally:
        done(status)


@router.post("/v1/chat/completions")
async def chat(request: Request) -> Response:
    return await handle(state_of(request), await request.body(), request.headers.get("x-request-id"))


async def handle(state: RuntimeState, payload: bytes, request_id: str | None) -> Response:
    """One chat request, from the raw body to the response (also called by the ASGI fast path)."""
    rid = request_id or f"{random.getrandbits(128):032x}"  # like uuid4().hex, without a syscall per request
    logs.request_id.set(rid)
    pipeline, variant = state.labels.get("pipeline", ""), state.labels.get("variant", "")
    try:
        raw = orjson.loads(payload)
        body = ChatRequest.model_validate(raw)
    except orjson.JSONDecodeError as exc:
        return openai_error(400, f"the body is not valid JSON: {exc}", "invalid_json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return openai_error(400, f"{where}: {first['msg']}", "invalid_request")
    turns = [ChatTurn(role=m.role, content=m.text()) for m in body.messages]
    problem = check_messages(turns, state.config.limits)
    if problem:
        return openai_error(400, problem, "invalid_request")
    if state.pipeline is None or not state.pool.healthy():
        return openai_error(503, f"not ready: {state.not_ready_reason()}", "not_ready")
    params = {k: v for k, v in raw.items() if k in PARAMS}
    if body.metadata and "tier" in body.metadata:
        params["tier"] = body.metadata["tier"]
    model = body.model or state.config.model_name
    started = time.perf_counter()
    metrics.request_started(pipeline, variant)
    tier = "none"

    def finish(status: str) -> None:
        metrics.request_finished(pipeline, variant, tier, status, time.perf_counter() - started)

    try:
        result = await state.pipeline.run(turns, stream=body.stream, request_id=rid, params=params)
    except ServiceError as exc:
        finish(str(exc.status))
        log.info("request failed", extra={"fields": {"status": exc.status, "code": exc.code}})
        return openai_error(exc.status, exc.message, exc.code, exc.type, exc.headers())
    except BaseException:
        finish("500")
        raise
    info = result.evolved
    tier = str(info.tier)
    solve_ms = info.timings_ms.get("solve")
    metrics.answered(pipeline, variant, tier, bool(info.escalations), info.solver, info.verdict,
                     None if solve_ms is None else solve_ms / 1000)  # fmt: skip
    if body.stream:
        headers = {"X-Request-ID": rid, "X-Evolved-Tier": tier, "X-Evolved-Program-Hash": state.program_hash}
        return StreamingResponse(_sse(rid, model, result, finish), media_type="text/event-stream", headers=headers)
    finish("200")
    raw = [(b"x-request-id", rid.encode("latin-1")), (b"x-evolved-tier", tier.encode()),
           (b"x-evolved-program-hash", state.program_hash.encode())]  # fmt: skip
    if info.verdict:
        raw.append((b"x-evolved-verdict", info.verdict.encode()))
    return JsonBytes(_completion(rid, result.model or model, result), raw)
