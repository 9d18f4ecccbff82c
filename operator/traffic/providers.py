"""The traffic providers behind one interface: what each renders, when its entry point serves as
declared, and what its data plane confirmed. Pure: spec and observations in, dicts out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from evolved_operator.render.pipeline import PipelineInput
from evolved_operator.traffic.gateway import render_route
from evolved_operator.traffic.router_objects import render_router
from evolved_operator.traffic.service_entry import render_entry_service
from evolved_operator.traffic.status import (
    Confirmed,
    TrafficObserved,
    TrafficVerdict,
    route_confirmed,
    route_verdict,
    router_confirmed,
    router_verdict,
    seen_confirmed,
)
from evolved_operator.traffic.weights import summary


class TrafficProvider(Protocol):
    name: str

    def render(self, pipeline: PipelineInput, weights: Mapping[str, int], mirror_active: bool) -> list[dict[str, Any]]:
        """The provider's objects for ``weights`` (a mirror left out when not ``mirror_active``)."""
        ...

    def verdict(self, pipeline: PipelineInput, observed: TrafficObserved) -> TrafficVerdict:
        """Whether the entry point serves as declared (for the conditions)."""
        ...

    def confirmed(
        self, weights: Mapping[str, int], observed: TrafficObserved, before: Confirmed, now: str
    ) -> Confirmed:
        """The weights the data plane last confirmed, and when."""
        ...


class RouterProvider:
    name = "router"

    def render(self, pipeline: PipelineInput, weights: Mapping[str, int], mirror_active: bool) -> list[dict[str, Any]]:
        return render_router(pipeline)  # the router reads weights and mirror from the pipeline itself

    def verdict(self, pipeline: PipelineInput, observed: TrafficObserved) -> TrafficVerdict:
        return router_verdict(observed)

    def confirmed(
        self, weights: Mapping[str, int], observed: TrafficObserved, before: Confirmed, now: str
    ) -> Confirmed:
        return router_confirmed(observed, before)


class GatewayProvider:
    name = "gatewayAPI"

    def render(self, pipeline: PipelineInput, weights: Mapping[str, int], mirror_active: bool) -> list[dict[str, Any]]:
        return [render_route(pipeline, weights, mirror_active)]

    def verdict(self, pipeline: PipelineInput, observed: TrafficObserved) -> TrafficVerdict:
        return route_verdict(observed, pipeline.name)

    def confirmed(
        self, weights: Mapping[str, int], observed: TrafficObserved, before: Confirmed, now: str
    ) -> Confirmed:
        return route_confirmed(observed, before, now)


class ServiceProvider:
    name = "service"

    def render(self, pipeline: PipelineInput, weights: Mapping[str, int], mirror_active: bool) -> list[dict[str, Any]]:
        return [render_entry_service(pipeline)]

    def verdict(self, pipeline: PipelineInput, observed: TrafficObserved) -> TrafficVerdict:
        return TrafficVerdict()

    def confirmed(
        self, weights: Mapping[str, int], observed: TrafficObserved, before: Confirmed, now: str
    ) -> Confirmed:
        return seen_confirmed(summary(weights), before, now)  # the split is what the ready replicas are


PROVIDERS: dict[str, TrafficProvider] = {p.name: p for p in (RouterProvider(), GatewayProvider(), ServiceProvider())}


def provider_for(pipeline: PipelineInput) -> TrafficProvider:
    return PROVIDERS[pipeline.spec.traffic_settings().provider]
