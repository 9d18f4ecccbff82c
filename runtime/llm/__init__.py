"""LLM providers behind one interface: OpenAI-compatible and Anthropic, with failover (ProviderSet)."""

from evolved_runtime.config import LLMConfig
from evolved_runtime.llm.base import ChatLLM, LLMError, LLMReply, LLMStream
from evolved_runtime.llm.failover import ProviderSet
from evolved_runtime.llm.openai_compat import OpenAICompatLLM


def make_llm(config: LLMConfig | None) -> ProviderSet | None:
    return None if config is None else ProviderSet(config)


__all__ = ["ChatLLM", "LLMError", "LLMReply", "LLMStream", "OpenAICompatLLM", "ProviderSet", "make_llm"]
