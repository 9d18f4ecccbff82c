"""The operator's `spec.llm` retry and circuit-breaker settings are rendered into the runtime's
config, which validates them again: their defaults and bounds must be the same, or the CRD would
accept a value the workers refuse to start with (or refuse one they take)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel

from evolved_operator.api_llm import CircuitBreaker, Retry
from evolved_runtime.config import BreakerConfig, RetryConfig


def constraints(model: type[BaseModel], name: str) -> tuple[Any, dict[str, Any]]:
    info = model.model_fields[name]
    bounds = {k: v for m in info.metadata for k, v in dataclasses.asdict(m).items()}  # ge, le, gt
    return info.default, bounds


@pytest.mark.parametrize(
    ("operator_model", "runtime_model", "fields"),
    [
        (Retry, RetryConfig, {"max_retries": "max_retries", "base_seconds": "base_s", "max_seconds": "max_s"}),
        (CircuitBreaker, BreakerConfig, {"failures": "failures", "failure_ratio": "failure_ratio", "window": "window",
                                          "min_calls": "min_calls", "open_seconds": "open_s"}),
    ],
)  # fmt: skip
def test_defaults_and_bounds_agree(
    operator_model: type[BaseModel], runtime_model: type[BaseModel], fields: dict[str, str]
) -> None:
    assert set(fields) == set(operator_model.model_fields)
    for ours, theirs in fields.items():
        assert constraints(operator_model, ours) == constraints(runtime_model, theirs), ours
