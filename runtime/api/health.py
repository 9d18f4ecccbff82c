"""/health (liveness), /ready (readiness), /metrics, /config."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from evolved_runtime import metrics
from evolved_runtime.admission.health import judge
from evolved_runtime.api.errors import openai_error
from evolved_runtime.state import RuntimeState

router = APIRouter()
JSON = "application/json"


def state_of(request: Request) -> RuntimeState:
    state: RuntimeState = request.app.state.runtime
    return state


@router.get("/health")
async def health(request: Request) -> Response:
    """Liveness with a verdict: HTTP 200 whatever the status (an upstream outage must not restart
    pods); the body says ``healthy``, ``degraded`` or ``unhealthy``, why, and each circuit."""
    state = state_of(request)
    circuits = state.llm.states() if state.llm is not None else {}
    recent = state.admission.traffic.recent()
    status, reasons = judge(recent, circuits, state.config.health)
    body = {"status": status, "liveness": "ok", "reasons": reasons, "circuits": circuits,
            "recent": {"requests": recent.requests, "errors_5xx": recent.errors,
                       "mean_latency_ms": round(recent.mean_latency_s * 1000, 3)}}  # fmt: skip
    return Response(orjson.dumps(body), media_type=JSON)


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
    return Response(orjson.dumps(state_of(request).config.public()), media_type=JSON)
