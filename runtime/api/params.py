"""The chat request's optional fields, checked as OpenAI checks them: a wrong type or a value out of
range is the caller's 400 naming the field, not a 500 where the runtime first uses it (the budget
estimate read ``max_tokens``) nor a value passed on to the LLM provider to refuse."""

from __future__ import annotations

from typing import Any


class BadParam(Exception):
    """A field of the request that the runtime cannot accept; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = f"{param}: {message}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


RANGES = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "presence_penalty": (-2.0, 2.0),
          "frequency_penalty": (-2.0, 2.0)}  # fmt: skip
COUNTS = ("max_tokens", "max_completion_tokens")


def check_params(raw: dict[str, Any]) -> None:
    """Raise ``BadParam`` for the first optional field that is not what OpenAI's API accepts
    (null means unset, as there); the runtime answers one choice, so ``n`` must be 1."""
    for name, (low, high) in RANGES.items():
        value = raw.get(name)
        if value is not None and not (_number(value) and low <= value <= high):
            raise BadParam(name, f"must be a number from {low:g} to {high:g}, not {_show(value)}")
    for name in COUNTS:
        value = raw.get(name)
        if value is not None and not (type(value) is int and value >= 1):
            raise BadParam(name, f"must be an integer of at least 1, not {_show(value)}")
    n = raw.get("n")
    if n is not None and not (type(n) is int and n == 1):
        raise BadParam("n", f"this runtime answers one choice per request: n must be 1, not {_show(n)}")
    seed = raw.get("seed")
    if seed is not None and type(seed) is not int:
        raise BadParam("seed", f"must be an integer, not {_show(seed)}")
    stop = raw.get("stop")
    if stop is not None and type(stop) is not str and (type(stop) is not list or any(type(s) is not str for s in stop)):
        raise BadParam("stop", "must be a string or a list of strings")
    user = raw.get("user")
    if user is not None and type(user) is not str:
        raise BadParam("user", f"must be a string, not {type(user).__name__}")


def parts_text(parts: list[Any], index: int) -> str:
    """The text of a content given as parts (``[{"type": "text", "text": ...}]``). The pipeline
    and the providers take text: any other part (an image, audio) is refused, not dropped."""
    texts = []
    for j, part in enumerate(parts):
        where = f"messages[{index}].content[{j}]"
        if type(part) is not dict:
            raise BadParam(where, 'must be an object like {"type": "text", "text": "..."}')
        kind = part.get("type", "text")
        if kind != "text":
            raise BadParam(where, f"only text parts are supported, not {kind!r}")
        text = part.get("text")
        if type(text) is not str:
            raise BadParam(f"{where}.text", "must be a string")
        texts.append(text)
    return "".join(texts)
