"""POST /v1/chat/completions: OpenAI's chat format in, the pipeline's answer out (plain or SSE)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from starlette.responses import Response, StreamingResponse

from evolved_runtime import logs, metrics
from evolved_runtime.admission import CURRENT, Ticket
from evolved_runtime.api.errors import openai_error
from evolved_runtime.api.health import state_of
from evolved_runtime.api.params import BadParam, check_params, parts_text
from evolved_runtime.errors import ServiceError
from evolved_runtime.limits import check_messages
from evolved_runtime.llm.base import LLMStream
from evolved_runtime.pipeline import ChatTurn, PipelineResult
from evolved_runtime.pipeline_types import EvolvedInfo
from evolved_runtime.state import RuntimeState

router = APIRouter()
log = logging.getLogger("evolved_runtime.chat")
PARAMS = ("temperature", "top_p", "max_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "user")


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self, index: int) -> str:
        if isinstance(self.content, list):
            return parts_text(self.content, index)
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = ""
    messages: list[Message] = Field(min_length=1)
    stream: StrictBool | None = False
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


async def _sse(rid: str, model: str, result: PipelineResult, head: str | None, done: Any) -> AsyncIterator[bytes]:
    """The stream: ``head`` (the first delta, read before the response started) then the rest as
    the upstream sends them. A failure mid-stream ends it with an error event; a client that
    goes away cancels this generator and with it the upstream call."""
    status = 500
    parts: list[str] = []
    try:
        yield _chunk(rid, model, {"role": "assistant", "content": ""}, None)
        if result.deltas is not None:
            if head is not None:
                parts.append(head)
                yield _chunk(rid, model, {"content": head}, None)
                try:
                    async for delta in result.deltas:
                        parts.append(delta)
                        yield _chunk(rid, model, {"content": delta}, None)
                except ServiceError as exc:
                    status = exc.status
                    err = {"error": {"message": exc.message, "type": exc.type, "code": exc.code}}
                    yield b"data: " + orjson.dumps(err) + b"\n\n"
                    return
        elif result.content:
            parts.append(result.content)
            yield _chunk(rid, model, {"content": result.content}, None)
        yield _chunk(rid, model, {}, "stop", {"evolved": result.evolved})
        yield b"data: [DONE]\n\n"
        status = 200
    except BaseException:
        status = 499  # the client went away (the generator was cancelled or closed)
        raise
    finally:
        await done(status, "".join(parts))


@dataclass(slots=True)
class Heads:
    """What the stages read from the request's headers (the fast path scans them from raw bytes)."""

    request_id: str | None = None
    authorization: str | None = None
    user: str | None = None
    no_cache: bool = False


def heads_of(request: Request, user_header: str) -> Heads:
    h = request.headers
    cache_control = h.get("cache-control", "")
    return Heads(h.get("x-request-id"), h.get("authorization"), h.get(user_header),
                 "no-cache" in cache_control or "no-store" in cache_control)  # fmt: skip


@router.post("/v1/chat/completions")
async def chat(request: Request) -> Response:
    state = state_of(request)
    return await handle(state, await request.body(), heads_of(request, state.config.limits.user_header))


def _parse(raw: Any) -> tuple[list[ChatTurn], bool, str, Any] | str:
    """(turns, stream, model, metadata) from a decoded body, or the 400's message. The common shape
    is read by hand (pydantic on every request was a tenth of the handler); anything else goes
    through the ``ChatRequest`` model for its precise error message. Raises ``BadParam`` for a
    content part that is not text."""
    if type(raw) is dict:
        messages = raw.get("messages")
        if type(messages) is list and messages:
            turns = []
            for i, m in enumerate(messages):
                if type(m) is not dict or type(m.get("role")) is not str:
                    break
                content = m.get("content")
                if type(content) is str:
                    turns.append(ChatTurn(m["role"], content))
                elif content is None:
                    turns.append(ChatTurn(m["role"], ""))
                elif type(content) is list:
                    turns.append(ChatTurn(m["role"], parts_text(content, i)))
                else:
                    break
            else:
                stream, model, metadata = raw.get("stream"), raw.get("model", ""), raw.get("metadata")
                stream = False if stream is None else stream  # OpenAI's default for null, as for absent
                if type(stream) is bool and type(model) is str and (metadata is None or type(metadata) is dict):
                    return turns, stream, model, metadata
    try:
        body = ChatRequest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"
    turns = [ChatTurn(role=m.role, content=m.text(i)) for i, m in enumerate(body.messages)]
    return turns, bool(body.stream), body.model, body.metadata


def _error(exc: ServiceError, rid: str) -> Response:
    headers = {"X-Request-ID": rid}
    if exc.retry_after:
        headers["Retry-After"] = exc.retry_after
    return openai_error(exc.status, exc.message, exc.code, exc.type, headers)


def _cached_answer(stored: bytes) -> PipelineResult:
    data = orjson.loads(stored)
    info = EvolvedInfo(**data["evolved"])
    return PipelineResult(evolved=info, content=data["content"], usage=data["usage"], model=data["model"])


def _to_store(result: PipelineResult, content: str, model: str) -> bytes:
    return orjson.dumps({"content": content, "usage": result.usage, "model": result.model or model,
                         "evolved": result.evolved})  # fmt: skip


NO_HEADS = Heads()
MAX_REQUEST_ID = 128


async def handle(state: RuntimeState, payload: bytes, heads: Heads | None = NO_HEADS) -> Response:
    """One chat request, from the raw body to the response, through the admission stages
    (every entrance calls this: the FastAPI route, the ASGI fast path, the direct answer).
    No ``heads``: a request without the headers the stages read (the benchmark's in-process calls)."""
    if heads is None:
        heads = NO_HEADS
    rid = heads.request_id
    if not rid or len(rid) > MAX_REQUEST_ID:  # a caller's ID is echoed and logged: a label, not a payload
        rid = f"{random.getrandbits(128):032x}"  # like uuid4().hex, without a syscall per request
    logs.request_id.set(rid)
    gate = state.admission
    ticket = Ticket(rid, time.perf_counter())
    CURRENT.set(ticket)
    refusal = gate.auth(ticket, heads.authorization)
    if refusal is not None:
        ticket.failed(refusal)
        await gate.settle(ticket, refusal.status, "none", None, None)
        return _error(refusal, rid)
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return openai_error(400, f"the body is not valid JSON: {exc}", "invalid_json")
    try:
        parsed = _parse(raw)
        if not isinstance(parsed, str):
            check_params(raw)
    except BadParam as exc:
        return openai_error(400, exc.message, "invalid_request", param=exc.param)
    if isinstance(parsed, str):
        return openai_error(400, parsed, "invalid_request")
    turns, stream, model_asked, metadata = parsed
    problem = check_messages(turns, state.config.limits)
    if problem:
        return openai_error(400, problem, "invalid_request")
    if state.pipeline is None or not state.pool.healthy():
        return openai_error(503, f"not ready: {state.not_ready_reason()}", "not_ready")
    params = {k: v for k, v in raw.items() if k in PARAMS}
    if metadata and "tier" in metadata:
        params["tier"] = metadata["tier"]
    user = heads.user or (raw.get("user") if isinstance(raw.get("user"), str) else None)
    refusal = await gate.rate_limit(ticket, user)
    if refusal is None:
        gate.budget(ticket)
    if refusal is not None:
        ticket.failed(refusal)
        await gate.settle(ticket, refusal.status, "none", None, None)
        return _error(refusal, rid)
    model = model_asked or state.config.model_name
    pipeline, variant = state.labels.get("pipeline", ""), state.labels.get("variant", "")
    running = state.pipeline

    async def llm_bound() -> bool:
        return running is not None and await running.routes_to_llm(turns, params)

    stored = await gate.cache_lookup(ticket, state.program_hash, model, [(t.role, t.content) for t in turns],
                                     params, heads.no_cache, llm_bound)  # fmt: skip
    metrics.request_started(pipeline, variant)
    tier = "none"

    async def finish(status: int, answer: str | None = None) -> None:
        metrics.request_finished(pipeline, variant, tier, str(status), time.perf_counter() - ticket.started)
        fill = None
        if answer is not None and ticket.cache_key is not None and stored is None:
            fill = _to_store(result, answer, model)
        await gate.settle(ticket, status, tier, None if stored is not None else result.usage, fill, turns[-1].content)

    if stored is not None:
        result = _cached_answer(stored)
    else:
        ticket.stages.append("pipeline")
        try:
            result = await state.pipeline.run(turns, stream=stream, request_id=rid, params=params)
        except ServiceError as exc:
            result = PipelineResult(evolved=EvolvedInfo())
            ticket.failed(exc)
            await finish(exc.status)
            return _error(exc, rid)
        except BaseException:
            result = PipelineResult(evolved=EvolvedInfo())
            await finish(500)
            raise
    info = result.evolved
    tier = str(info.tier)
    solve_ms = info.timings_ms.get("solve")
    metrics.answered(pipeline, variant, tier, bool(info.escalations), info.solver, info.verdict,
                     None if solve_ms is None else solve_ms / 1000)  # fmt: skip
    cache_header = (b"x-evolved-cache", ticket.cache_level.encode())
    if stream:
        head = None
        if result.deltas is not None:
            try:  # failover and budget refusals happen before the first delta: still a plain HTTP error
                head = await anext(result.deltas)
            except StopAsyncIteration:
                result.deltas = None
            except ServiceError as exc:
                ticket.failed(exc)
                await finish(exc.status)
                return _error(exc, rid)
        headers = {"X-Request-ID": rid, "X-Evolved-Tier": tier, "X-Evolved-Program-Hash": state.program_hash,
                   "X-Evolved-Cache": ticket.cache_level}  # fmt: skip
        deltas = result.deltas

        async def done(status: int, text: str) -> None:
            if isinstance(deltas, LLMStream) and deltas.usage:
                result.usage = dict(deltas.usage)
            await finish(status, text if status == 200 else None)

        return StreamingResponse(_sse(rid, model, result, head, done), media_type="text/event-stream", headers=headers)
    await finish(200, result.content or "")
    raw_headers = [(b"x-request-id", rid.encode("latin-1")), (b"x-evolved-tier", tier.encode()),
                   (b"x-evolved-program-hash", state.program_hash.encode()), cache_header]  # fmt: skip
    if info.verdict:
        raw_headers.append((b"x-evolved-verdict", info.verdict.encode()))
    if ticket.cost_usd:  # what the router sums per variant for the analysis' maxCostPerRequestUsd
        raw_headers.append((b"x-evolved-cost-usd", f"{ticket.cost_usd:.9g}".encode()))
    return JsonBytes(_completion(rid, result.model or model, result), raw_headers)
