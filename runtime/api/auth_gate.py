"""API keys on every path but the chat entrance (whose auth stage checks them) and the open ones.

A pure ASGI middleware: ``/health``, ``/ready`` and ``/metrics`` stay open by config (probes
and Prometheus carry no key); ``/v1/models``, ``/config`` and ``/costs`` need a key like chat.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from evolved_runtime.admission.auth import ApiKeys
from evolved_runtime.api.errors import openai_error
from evolved_runtime.config import AuthConfig

CHAT = "/v1/chat/completions"


def open_paths(config: AuthConfig) -> frozenset[str]:
    paths = {CHAT}  # the chat entrance runs the auth stage itself
    if config.open_health:
        paths |= {"/health", "/ready"}
    if config.open_metrics:
        paths.add("/metrics")
    return frozenset(paths)


class AuthGate:
    def __init__(self, app: ASGIApp, keys: ApiKeys, open_paths: frozenset[str]) -> None:
        self.app = app
        self.keys = keys
        self.open = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open:
            await self.app(scope, receive, send)
            return
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        if self.keys.key_id(authorization) is None:
            message = "a valid API key is required: Authorization: Bearer <key>"
            await openai_error(401, message, "invalid_api_key")(scope, receive, send)
            return
        await self.app(scope, receive, send)
