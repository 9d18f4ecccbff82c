"""/health (liveness), /ready (readiness), /metrics, /config."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evolved_runtime import metrics
from evolved_runtime.api.errors import openai_error
from evolved_runtime.state import RuntimeState

router = APIRouter()
JSON = "application/json"


def state_of(request: Request) -> RuntimeState:
    state: RuntimeState = request.app.state.runtime
    return state


@router.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)


@router.get("/ready")
async def ready(request: Request) -> Response:
    state = state_of(request)
    if state.ready():
        return Response(b'{"status":"ready"}', media_type=JSON)
    return openai_error(503, state.not_ready_reason(), "not_ready")


@router.get("/metrics")
async def prometheus() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


@router.get("/config")
async def config(request: Request) -> Response:
    import orjson

    return Response(orjson.dumps(state_of(request).config.public()), media_type=JSON)
