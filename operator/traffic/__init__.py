"""Traffic between a pipeline's variants: weight arithmetic, the providers (router, gatewayAPI,
service) behind one interface, and the traffic part of status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from evolved_operator.render.pipeline import PipelineInput
from evolved_operator.traffic.providers import PROVIDERS, TrafficProvider, provider_for
from evolved_operator.traffic.weights import declared_weights, replica_shares


def effective_weights(
    pipeline: PipelineInput, ready: Mapping[str, int], decided: WeightsDecision | None = None
) -> dict[str, int]:
    """What each variant serves: with provider ``service`` its share of ready replicas; else the
    rollout's decision when there is one, the declared weights when not."""
    if pipeline.spec.traffic_settings().provider == "service":
        return replica_shares(ready, [v.name for v in pipeline.spec.variants])
    if decided is not None:
        return dict(decided.weights)
    return declared_weights(pipeline.spec)


class WeightsDecision(Protocol):
    @property
    def weights(self) -> dict[str, int]: ...


def mirror_active(pipeline: PipelineInput, ready: Mapping[str, int]) -> bool:
    """A mirror copies requests only while its variant has a ready pod."""
    mirror = pipeline.spec.traffic_settings().mirror
    return mirror is not None and ready.get(mirror.variant, 0) > 0


__all__ = ["PROVIDERS", "TrafficProvider", "effective_weights", "mirror_active", "provider_for"]
