"""OpenAI-style errors: ``{"error": {"message", "type", "code"}}`` with the right status, everywhere."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from evolved_runtime.errors import ServiceError, error_type
from evolved_runtime.limits import error_body

log = logging.getLogger("evolved_runtime")


def openai_error(
    status: int, message: str, code: str, type_: str | None = None, headers: dict[str, str] | None = None,
    param: str | None = None,
) -> Response:  # fmt: skip
    body = error_body(message, type_ or error_type(status), code, param)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


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

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        return openai_error(exc.status, exc.message, exc.code, exc.type, exc.headers())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error")
        return openai_error(500, f"internal error: {type(exc).__name__}", "internal_error", "server_error")
