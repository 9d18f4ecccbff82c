"""Pure weight arithmetic: declared weights, shares of ready replicas, the summary form."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.traffic.weights import declared_weights, replica_shares, summary


def spec(*variants: dict[str, Any]) -> EvolvedPipelineSpec:
    return EvolvedPipelineSpec.model_validate({"variants": list(variants)})


DECLARED = {
    "no weight anywhere: the stable variant takes everything": (
        spec({"name": "a", "role": "candidate"}, {"name": "b"}),
        {"a": 0, "b": 100},
    ),
    "one variant alone without a weight": (spec({"name": "only"}), {"only": 100}),
    "weights as declared, in the spec's order": (
        spec({"name": "s", "weight": 90}, {"name": "c", "role": "candidate", "weight": 10}),
        {"s": 90, "c": 10},
    ),
    "the stable variant may be drained to 0": (
        spec({"name": "s", "weight": 0}, {"name": "c", "role": "candidate", "weight": 100}),
        {"s": 0, "c": 100},
    ),
}


@pytest.mark.parametrize(("pipeline", "expected"), list(DECLARED.values()), ids=list(DECLARED))
def test_declared_weights(pipeline: EvolvedPipelineSpec, expected: dict[str, int]) -> None:
    weights = declared_weights(pipeline)
    assert weights == expected
    assert list(weights) == list(expected)


SHARES = {
    "even replicas split evenly": ({"a": 2, "b": 2}, ["a", "b"], {"a": 50, "b": 50}),
    "thirds round by the largest remainder and sum to 100": ({"a": 1, "b": 1, "c": 1}, ["a", "b", "c"], {"a": 34, "b": 33, "c": 33}),
    "a variant without ready pods gets 0": ({"a": 3}, ["a", "b"], {"a": 100, "b": 0}),
    "no ready pod anywhere: all 0, nothing invented": ({}, ["a", "b"], {"a": 0, "b": 0}),
    "two of three": ({"a": 2, "b": 1}, ["a", "b"], {"a": 67, "b": 33}),
    "negative counts are treated as none": ({"a": -1, "b": 1}, ["a", "b"], {"a": 0, "b": 100}),
}  # fmt: skip


@pytest.mark.parametrize(("ready", "order", "expected"), list(SHARES.values()), ids=list(SHARES))
def test_replica_shares(ready: dict[str, int], order: list[str], expected: dict[str, int]) -> None:
    shares = replica_shares(ready, order)
    assert shares == expected
    assert sum(shares.values()) in (0, 100)


def test_many_variants_always_sum_to_100() -> None:
    for n in range(1, 9):
        for ready in range(1, 8):
            counts = {f"v{i}": (i * ready) % 5 + 1 for i in range(n)}
            assert sum(replica_shares(counts, list(counts)).values()) == 100


def test_the_summary_lists_variants_in_order() -> None:
    assert summary({"stable": 90, "canary": 10}) == "stable=90,canary=10"
