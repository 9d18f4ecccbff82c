"""OpenAI-style errors: ``{"error": {"message", "type", "code"}}`` with the right status, everywhere."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from evolved_runtime.limits import error_body
from evolved_runtime.llm.base import LLMError
from evolved_runtime.pipeline import PipelineError

log = logging.getLogger("evolved_runtime")
TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error",
         413: "invalid_request_error", 429: "rate_limit_error", 503: "service_unavailable"}  # fmt: skip


def openai_error(
    status: int, message: str, code: str, type_: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    kind = type_ or TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return Response(error_body(message, kind, code), status_code=status, media_type="application/json", headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed on {request.url.path}"}
        return openai_error(
            exc.status_code, message.get(exc.status_code, str(exc.detail)), codes.get(exc.status_code, "http_error")
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return openai_error(400, f"{where}: {first.get('msg')}", "invalid_request")

    @app.exception_handler(PipelineError)
    async def pipeline_error(request: Request, exc: PipelineError) -> Response:
        return openai_error(exc.status, exc.message, exc.code, exc.type)

    @app.exception_handler(LLMError)
    async def llm_error(request: Request, exc: LLMError) -> Response:
        headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
        return openai_error(exc.status, exc.message, exc.code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error")
        return openai_error(500, f"internal error: {type(exc).__name__}", "internal_error", "server_error")
