"""GET /v1/models: the one model a pipeline serves."""

from __future__ import annotations

import time

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from evolved_runtime.api.health import state_of

router = APIRouter()
STARTED = int(time.time())


@router.get("/v1/models")
async def models(request: Request) -> Response:
    config = state_of(request).config
    data = [{"id": config.model_name, "object": "model", "created": STARTED, "owned_by": f"evolved:{config.pipeline}"}]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")
