"""Any OpenAI-compatible endpoint over one aiohttp session (a keep-alive connection pool).

aiohttp rather than httpx: in a proxy on this machine httpx's pool costs about eight times
aiohttp's CPU (docs/benchmarks.md, ANCHORS). A pooled connection the upstream closed while idle
fails before any byte of a response arrives; such a request is retried once on a new connection
(LiteLLM answers 500 "Cannot write to closing transport" in that case).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from evolved_runtime.config import LLMConfig
from evolved_runtime.llm.base import LLMError, LLMReply

PASSTHROUGH = ("temperature", "top_p", "max_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "user")
_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


class OpenAICompatLLM:
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self.retries = 0

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Content-Type": "application/json"}
            key = self.config.api_key()
            if key:
                headers["Authorization"] = f"Bearer {key}"
            self._session = aiohttp.ClientSession(
                base_url=self.config.base_url.rstrip("/") + "/",
                headers=headers,
                connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=30, enable_cleanup_closed=True),
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
            )
        return self._session

    def _body(self, messages: list[dict[str, Any]], params: dict[str, Any], stream: bool) -> bytes:
        body: dict[str, Any] = {"model": self.config.model, "messages": messages, "stream": stream}
        body.update({k: v for k, v in params.items() if k in PASSTHROUGH and v is not None})
        if "max_tokens" not in body and self.config.max_tokens:
            body["max_tokens"] = self.config.max_tokens
        return json.dumps(body).encode()

    async def _post(self, payload: bytes) -> aiohttp.ClientResponse:
        for attempt in (1, 2):
            try:
                response = await self._client().post("chat/completions", data=payload)
            except _STALE:
                if attempt == 2:
                    raise
                self.retries += 1
                continue
            return response
        raise AssertionError("unreachable")

    async def _checked(self, payload: bytes) -> aiohttp.ClientResponse:
        try:
            response = await self._post(payload)
        except TimeoutError as exc:
            raise LLMError(
                504, "upstream_timeout", f"the LLM provider did not answer within {self.config.timeout_s:g}s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise LLMError(502, "upstream_unreachable", f"cannot reach the LLM provider: {exc}") from exc
        if response.status >= 400:
            text = (await response.text())[:500]
            response.release()
            if response.status == 429:
                raise LLMError(
                    429,
                    "rate_limit_exceeded",
                    f"the LLM provider is rate limiting: {text}",
                    response.headers.get("Retry-After"),
                )
            if response.status >= 500:
                raise LLMError(502, "upstream_error", f"the LLM provider failed with HTTP {response.status}: {text}")
            raise LLMError(
                502, "upstream_rejected", f"the LLM provider rejected the request with HTTP {response.status}: {text}"
            )
        return response

    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply:
        response = await self._checked(self._body(messages, params, stream=False))
        try:
            data = await response.json(content_type=None)
        except (json.JSONDecodeError, aiohttp.ClientError, TimeoutError) as exc:
            raise LLMError(502, "upstream_invalid", f"the LLM provider sent an unreadable answer: {exc}") from exc
        try:
            content = data["choices"][0]["message"].get("content") or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(502, "upstream_invalid", "the LLM provider's answer has no choices[0].message") from exc
        usage = {k: int(v) for k, v in (data.get("usage") or {}).items() if isinstance(v, int)}
        return LLMReply(content=content, model=str(data.get("model") or self.config.model), usage=usage)

    async def stream(self, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[str]:
        response = await self._checked(self._body(messages, params, stream=True))
        try:
            async for raw in response.content:
                line = raw.decode(errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                except (json.JSONDecodeError, KeyError, IndexError, TypeError):
                    continue
                if delta:
                    yield delta
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise LLMError(502, "upstream_error", f"the LLM stream broke: {exc}") from exc
        finally:
            response.release()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
