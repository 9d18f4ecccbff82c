"""The one exception shape that becomes an OpenAI-style HTTP error (status, code, message, type)."""

from __future__ import annotations

# The OpenAI error type for a status, when the raiser names none.
TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error",
         413: "invalid_request_error", 429: "rate_limit_error", 503: "service_unavailable"}  # fmt: skip


def error_type(status: int) -> str:
    return TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")


class ServiceError(Exception):
    """An answerable failure: the caller gets ``{"error": {...}}`` with this status and code."""

    def __init__(
        self, status: int, code: str, message: str, type_: str | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type_ or error_type(status)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": self.retry_after} if self.retry_after else None
