"""A semantic problem the schema cannot express: it stalls the pipeline until the input changes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """``reason`` is a CamelCase condition reason; ``message`` names the field and says what to do."""

    reason: str
    message: str
