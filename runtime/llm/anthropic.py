"""Anthropic's Messages API: POST messages, with ``x-api-key`` and ``anthropic-version``.

System messages become the top-level ``system``; usage (``input_tokens``, ``output_tokens``)
is reported in OpenAI's names. A stream is Anthropic's event stream: text from
``content_block_delta``, usage from ``message_start`` and ``message_delta``, the end at
``message_stop``; an ``error`` event or an end without ``message_stop`` is a broken stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from evolved_runtime.config import ProviderConfig
from evolved_runtime.llm.base import LLMReply, LLMStream
from evolved_runtime.llm.http_provider import HttpProvider
from evolved_runtime.llm.transport import invalid, truncated

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024  # the Messages API requires max_tokens


def usage_of(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens}  # fmt: skip


class AnthropicLLM(HttpProvider):
    path = "messages"

    def __init__(self, config: ProviderConfig) -> None:
        headers = {"anthropic-version": API_VERSION}
        key = config.api_key()
        if key:
            headers["x-api-key"] = key
        super().__init__(config, headers)

    def _body(self, messages: list[dict[str, Any]], params: dict[str, Any], stream: bool) -> bytes:
        system = "\n\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")
        turns = [{"role": m["role"], "content": m.get("content") or ""} for m in messages
                 if m.get("role") in ("user", "assistant")]  # fmt: skip
        max_tokens = params.get("max_tokens") or self.config.max_tokens or DEFAULT_MAX_TOKENS
        body: dict[str, Any] = {"model": self.config.model, "messages": turns, "max_tokens": max_tokens}
        if system:
            body["system"] = system
        if stream:
            body["stream"] = True
        for key in ("temperature", "top_p"):
            if params.get(key) is not None:
                body[key] = params[key]
        stop = params.get("stop")
        if stop:
            body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if params.get("user"):
            body["metadata"] = {"user_id": str(params["user"])}
        return orjson.dumps(body)

    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply:
        response = await self.transport.post("messages", self._body(messages, params, stream=False))
        name = self.config.name
        try:
            data = orjson.loads(await response.read())
            parts = data["content"]
            content = "".join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text")
            raw = data.get("usage") or {}
            usage = usage_of(int(raw.get("input_tokens", 0)), int(raw.get("output_tokens", 0)))
        except (orjson.JSONDecodeError, aiohttp.ClientError, TimeoutError, KeyError, TypeError, AttributeError,
                ValueError) as exc:  # fmt: skip
            raise invalid(name, str(exc) or type(exc).__name__) from exc
        cost = self.config.cost_usd(usage["prompt_tokens"], usage["completion_tokens"])
        model = str(data.get("model") or self.config.model)
        return LLMReply(content=content, model=model, usage=usage, provider=name, cost_usd=cost)

    async def _parse(self, lines: aiohttp.StreamReader, out: LLMStream) -> AsyncIterator[str]:
        name = self.config.name
        tokens_in = tokens_out = 0
        async for raw in lines:
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue
            try:
                event = orjson.loads(line[5:].strip())
            except orjson.JSONDecodeError:
                continue
            kind = event.get("type") if isinstance(event, dict) else None
            if kind == "content_block_delta":
                text = (event.get("delta") or {}).get("text")
                if text:
                    yield text
            elif kind == "message_start":
                tokens_in = int(((event.get("message") or {}).get("usage") or {}).get("input_tokens", 0))
            elif kind == "message_delta":
                tokens_out = int((event.get("usage") or {}).get("output_tokens", tokens_out))
            elif kind == "message_stop":
                out.usage = usage_of(tokens_in, tokens_out)
                out.cost_usd = self.config.cost_usd(tokens_in, tokens_out)
                return
            elif kind == "error":
                raise truncated(name, str(event.get("error"))[:300])
        raise truncated(name, "it ended without message_stop")
