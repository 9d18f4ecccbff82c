"""What the HTTP providers share: a Transport, the stream's life (release or drop the connection)
and the provider interface; each protocol gives its path, its body and its stream parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from evolved_runtime.config import ProviderConfig
from evolved_runtime.llm.base import LLMStream
from evolved_runtime.llm.transport import Transport, truncated


class HttpProvider:
    path = ""

    def __init__(self, config: ProviderConfig, headers: dict[str, str]) -> None:
        self.config = config
        self.transport = Transport(config, headers)

    def _body(self, messages: list[dict[str, Any]], params: dict[str, Any], stream: bool) -> bytes:
        raise NotImplementedError

    def _parse(self, lines: aiohttp.StreamReader, out: LLMStream) -> AsyncIterator[str]:
        """The text deltas of a stream; returns at its end marker (filling ``out``'s usage), raises
        LLMError when the stream ends without one or reports an error."""
        raise NotImplementedError

    async def open_stream(self, messages: list[dict[str, Any]], **params: Any) -> LLMStream:
        """The stream, once the upstream has answered with a success status (no delta read yet)."""
        response = await self.transport.post(self.path, self._body(messages, params, stream=True), True)
        out = LLMStream()
        out.provider, out.model = self.config.name, self.config.model
        return out.attach(self._deltas(response, out))

    async def _deltas(self, response: aiohttp.ClientResponse, out: LLMStream) -> AsyncIterator[str]:
        done = False
        try:
            async for delta in self._parse(response.content, out):
                yield delta
            done = True
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise truncated(self.config.name, str(exc) or type(exc).__name__) from exc
        finally:
            if done:
                response.release()
            else:
                response.close()  # cancelled or broken: drop the connection, the upstream sees the close

    def stream(self, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[str]:
        """A stream on this provider alone (failover lives in ProviderSet)."""
        from evolved_runtime.llm.failover import single_stream

        return single_stream(self.open_stream(messages, **params))

    async def close(self) -> None:
        await self.transport.close()
