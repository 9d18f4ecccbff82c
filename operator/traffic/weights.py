"""Pure weight arithmetic: declared weights, shares that follow ready replicas, the summary string."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from evolved_operator.api import EvolvedPipelineSpec

Weights = dict[str, int]  # variant -> percent, in the spec's variant order


def declared_weights(spec: EvolvedPipelineSpec) -> Weights:
    """``spec.variants[].weight`` when set (the CRD makes them sum to 100), else 100 for the stable
    variant and 0 for the others."""
    if all(v.weight is not None for v in spec.variants):
        return {v.name: int(v.weight or 0) for v in spec.variants}
    stable = spec.stable().name
    return {v.name: 100 if v.name == stable else 0 for v in spec.variants}


def replica_shares(ready: Mapping[str, int], order: Sequence[str]) -> Weights:
    """Percent of ready pods per variant (what a Service over every variant gives), rounded by the
    largest remainder so they sum to 100; all 0 when no pod is ready."""
    total = sum(max(0, ready.get(name, 0)) for name in order)
    if total == 0:
        return dict.fromkeys(order, 0)
    exact = {name: 100 * max(0, ready.get(name, 0)) / total for name in order}
    shares = {name: int(value) for name, value in exact.items()}
    left = 100 - sum(shares.values())
    by_remainder = sorted(order, key=lambda n: (-(exact[n] - shares[n]), order.index(n)))
    for name in by_remainder[:left]:
        shares[name] += 1
    return shares


def summary(weights: Mapping[str, int]) -> str:
    """``stable=90,canary=10``: the printer column and the router's confirmation use this form."""
    return ",".join(f"{name}={weight}" for name, weight in weights.items())
