"""Structured logs: one JSON object a line, with request id, pipeline and variant.

Every chat request ends in one ``request`` event (``request_event``): written straight to
stderr as one orjson line, without a LogRecord, as it runs once per request on the hot path.
Everything else goes through ``logging`` with ``JsonFormatter``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_static: dict[str, str] = {}


_second: tuple[int, str] = (-1, "")


def _now(created: float) -> str:
    """RFC 3339 UTC with milliseconds; the part up to the second is formatted once per second."""
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second[1]}.{int(created * 1000) % 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": _now(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
            **_static,
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            event.update(extra)
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(event, default=str).decode()


_pending: list[bytes] = []


def _flush() -> None:
    lines = b"".join(_pending)
    _pending.clear()
    try:
        sys.stderr.buffer.write(lines)
        sys.stderr.buffer.flush()
    except (AttributeError, ValueError):  # a replaced stderr without a binary buffer (tests)
        sys.stderr.write(lines.decode())


def request_event(fields: dict[str, Any]) -> None:
    """One request's event line (request id, tier, provider, latency, tokens, cost, cache level...).

    On an event loop the lines of one loop turn leave in one write (under load, many requests
    settle in the same turn: one system call for all of them instead of one each)."""
    event = {"time": _now(time.time()), "level": "info", "logger": "evolved_runtime.request", "message": "request",
             **_static, **fields}  # fmt: skip
    _pending.append(orjson.dumps(event, default=str) + b"\n")
    if len(_pending) > 1:
        return  # a flush is already scheduled
    try:
        asyncio.get_running_loop().call_soon(_flush)
    except RuntimeError:
        _flush()


def setup(pipeline: str, variant: str, level: int = logging.INFO) -> None:
    _static.update({"pipeline": pipeline, "variant": variant})
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
