"""One aiohttp session per provider (a keep-alive pool) and the mapping of failures to LLMError.

aiohttp rather than httpx: in a proxy on this machine httpx's pool costs about eight times
aiohttp's CPU (docs/benchmarks.md). A pooled connection the upstream closed while idle fails
before any byte of a response arrives; such a request is sent again at once on a new connection
(not a retry: nothing reached the upstream), so it never becomes a client error (LiteLLM
answers 500 "Cannot write to closing transport" in that case).
"""

from __future__ import annotations

import aiohttp

from evolved_runtime.config import ProviderConfig
from evolved_runtime.llm.base import LLMError
from evolved_runtime.llm.retry import retriable_status

_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


class Transport:
    """POSTs JSON to one provider; answers with a checked response (status < 400) or raises LLMError."""

    def __init__(self, config: ProviderConfig, headers: dict[str, str]) -> None:
        self.config = config
        self.headers = {"Content-Type": "application/json", **headers}
        self._session: aiohttp.ClientSession | None = None
        self.stale_resends = 0
        # streams: no total limit (a long answer is fine), but silence past the timeout is a failure
        self.stream_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=config.timeout_s, sock_read=config.timeout_s
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                base_url=self.config.base_url.rstrip("/") + "/",
                headers=self.headers,
                connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=30, enable_cleanup_closed=True),
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
            )
        return self._session

    async def _send(self, path: str, payload: bytes, stream: bool) -> aiohttp.ClientResponse:
        timeout = self.stream_timeout if stream else None
        try:
            if timeout is None:
                return await self._client().post(path, data=payload)
            return await self._client().post(path, data=payload, timeout=timeout)
        except _STALE:
            self.stale_resends += 1
        if timeout is None:
            return await self._client().post(path, data=payload)
        return await self._client().post(path, data=payload, timeout=timeout)

    async def post(self, path: str, payload: bytes, stream: bool = False) -> aiohttp.ClientResponse:
        name = self.config.name
        try:
            response = await self._send(path, payload, stream)
        except TimeoutError as exc:
            raise LLMError(
                504, "upstream_timeout", f"provider {name} did not answer within {self.config.timeout_s:g}s",
                retriable=True,
            ) from exc  # fmt: skip
        except aiohttp.ClientError as exc:
            raise LLMError(502, "upstream_unreachable", f"cannot reach provider {name}: {exc}", retriable=True) from exc
        if response.status < 400:
            return response
        try:
            text = (await response.text())[:500]
        except (aiohttp.ClientError, TimeoutError):
            text = ""
        response.release()
        status = response.status
        if status == 429:
            raise LLMError(429, "rate_limit_exceeded", f"provider {name} is rate limiting: {text}",
                           response.headers.get("Retry-After"), retriable=True)  # fmt: skip
        if retriable_status(status):
            raise LLMError(502, "upstream_error", f"provider {name} failed with HTTP {status}: {text}",
                           response.headers.get("Retry-After"), retriable=True)  # fmt: skip
        raise LLMError(502, "upstream_rejected", f"provider {name} rejected the request with HTTP {status}: {text}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def invalid(name: str, what: str) -> LLMError:
    """An answer that cannot be read (malformed JSON, no content): the provider's fault, retriable."""
    return LLMError(502, "upstream_invalid", f"provider {name} sent an unreadable answer: {what}", retriable=True)


def truncated(name: str, what: str) -> LLMError:
    return LLMError(502, "upstream_stream_broken", f"provider {name}'s stream broke: {what}", retriable=True)
