"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, OpenRouter, ...): POST chat/completions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from evolved_runtime.config import LLMConfig, ProviderConfig
from evolved_runtime.llm.base import LLMReply, LLMStream
from evolved_runtime.llm.http_provider import HttpProvider
from evolved_runtime.llm.transport import invalid, truncated

PASSTHROUGH = ("temperature", "top_p", "max_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "user")


def normal_usage(raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict):
        return {}
    return {k: int(v) for k, v in raw.items() if k in ("prompt_tokens", "completion_tokens", "total_tokens")
            and isinstance(v, int)}  # fmt: skip


class OpenAICompatLLM(HttpProvider):
    path = "chat/completions"

    def __init__(self, config: ProviderConfig | LLMConfig) -> None:
        provider = config.provider_list()[0] if isinstance(config, LLMConfig) else config
        key = provider.api_key()
        super().__init__(provider, {"Authorization": f"Bearer {key}"} if key else {})

    def _body(self, messages: list[dict[str, Any]], params: dict[str, Any], stream: bool) -> bytes:
        body: dict[str, Any] = {"model": self.config.model, "messages": messages, "stream": stream}
        for k, v in params.items():
            if k in PASSTHROUGH and v is not None:
                body[k] = v
        if "max_tokens" not in body and self.config.max_tokens:
            body["max_tokens"] = self.config.max_tokens
        if stream:
            body["stream_options"] = {"include_usage": True}
        return orjson.dumps(body)

    def _reply(self, content: str, model: str, usage: dict[str, int]) -> LLMReply:
        cost = self.config.cost_usd(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
        return LLMReply(content=content, model=model, usage=usage, provider=self.config.name, cost_usd=cost)

    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> LLMReply:
        response = await self.transport.post("chat/completions", self._body(messages, params, stream=False))
        name = self.config.name
        try:
            data = orjson.loads(await response.read())
        except (orjson.JSONDecodeError, aiohttp.ClientError, TimeoutError) as exc:
            raise invalid(name, str(exc)) from exc
        try:
            content = data["choices"][0]["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise invalid(name, "no choices[0].message") from exc
        return self._reply(content, str(data.get("model") or self.config.model), normal_usage(data.get("usage")))

    async def _parse(self, lines: aiohttp.StreamReader, out: LLMStream) -> AsyncIterator[str]:
        name = self.config.name
        async for raw in lines:
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                out.cost_usd = self.config.cost_usd(out.usage.get("prompt_tokens", 0),
                                                    out.usage.get("completion_tokens", 0))  # fmt: skip
                return
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(chunk, dict):
                continue
            if "error" in chunk:
                raise truncated(name, str(chunk["error"])[:300])
            if chunk.get("usage"):
                out.usage = normal_usage(chunk["usage"])
            choices = chunk.get("choices") or ()
            delta = choices[0].get("delta", {}).get("content") if choices and isinstance(choices[0], dict) else None
            if delta:
                yield delta
        raise truncated(name, "it ended without [DONE]")
