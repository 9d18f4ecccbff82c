"""GET /costs: tokens and USD by provider, model, variant and tier (this worker process)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from evolved_runtime.api.health import state_of

router = APIRouter()


@router.get("/costs")
async def costs(request: Request) -> Response:
    return Response(orjson.dumps(state_of(request).admission.costs.report()), media_type="application/json")
