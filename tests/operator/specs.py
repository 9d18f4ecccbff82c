"""Spec documents the operator tests share."""

from __future__ import annotations

from typing import Any


def two_variants(traffic: dict[str, Any] | None = None, **weights: int) -> dict[str, Any]:
    """A stable and a canary variant, with ``weights`` (by variant name) and ``traffic`` when given."""
    variants: list[dict[str, Any]] = [{"name": "stable"}, {"name": "canary", "role": "candidate"}]
    for v in variants:
        if weights:
            v["weight"] = weights[v["name"]]
    spec: dict[str, Any] = {"variants": variants}
    if traffic is not None:
        spec["traffic"] = traffic
    return spec
