"""Traffic between a pipeline's variants: weight arithmetic, the providers (router, gatewayAPI,
service) behind one interface, and the traffic part of status."""

from __future__ import annotations

from collections.abc import Mapping

from evolved_operator.render.pipeline import PipelineInput
from evolved_operator.traffic.providers import PROVIDERS, TrafficProvider, provider_for
from evolved_operator.traffic.weights import declared_weights, replica_shares


def effective_weights(pipeline: PipelineInput, ready: Mapping[str, int]) -> dict[str, int]:
    """What each variant serves: the declared weights, or with provider ``service`` its share of
    ready replicas."""
    if pipeline.spec.traffic_settings().provider == "service":
        return replica_shares(ready, [v.name for v in pipeline.spec.variants])
    return declared_weights(pipeline.spec)


def mirror_active(pipeline: PipelineInput, ready: Mapping[str, int]) -> bool:
    """A mirror copies requests only while its variant has a ready pod."""
    mirror = pipeline.spec.traffic_settings().mirror
    return mirror is not None and ready.get(mirror.variant, 0) > 0


__all__ = ["PROVIDERS", "TrafficProvider", "effective_weights", "mirror_active", "provider_for"]
