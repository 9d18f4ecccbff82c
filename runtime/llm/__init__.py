"""LLM providers behind one interface (next: failover, breakers, cache, limits, budgets)."""

from evolved_runtime.config import LLMConfig
from evolved_runtime.llm.base import ChatLLM, LLMError, LLMReply
from evolved_runtime.llm.openai_compat import OpenAICompatLLM


def make_llm(config: LLMConfig | None) -> ChatLLM | None:
    return None if config is None else OpenAICompatLLM(config)


__all__ = ["ChatLLM", "LLMError", "LLMReply", "OpenAICompatLLM", "make_llm"]
