"""Provider ``gatewayAPI``: one HTTPRoute with weighted ``backendRefs`` to the variant Services.

Every field the apiserver would default is written out (parentRef group and kind, the path
match, backendRef group, kind, port and weight, even a weight of 0), so what GitOps tools compare
is exactly what the apiserver stores. A mirror becomes a ``RequestMirror`` filter with a
``percent`` (Gateway API v1.3+), left out while the mirror variant has no ready pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evolved_operator.api_traffic import GATEWAY_GROUP, GatewayAPITraffic
from evolved_operator.render.labels import child_name, metadata
from evolved_operator.render.pipeline import PipelineInput
from evolved_operator.render.service import SERVICE_PORT

ROUTE_API_VERSION = f"{GATEWAY_GROUP}/v1"


def _backend(pipeline: PipelineInput, variant: str) -> dict[str, Any]:
    return {"group": "", "kind": "Service", "name": child_name(pipeline.name, variant), "port": SERVICE_PORT}


def parent_refs(settings: GatewayAPITraffic) -> list[dict[str, Any]]:
    return [ref.model_dump(by_alias=True, exclude_none=True) for ref in settings.parent_refs]


def render_route(pipeline: PipelineInput, weights: Mapping[str, int], mirror_active: bool) -> dict[str, Any]:
    traffic = pipeline.spec.traffic_settings()
    if traffic.gateway_api is None:
        raise ValueError("provider gatewayAPI without traffic.gatewayAPI (the CRD refuses this)")
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [{**_backend(pipeline, name), "weight": weight} for name, weight in weights.items()],
    }
    if traffic.mirror is not None and mirror_active:
        rule["filters"] = [
            {
                "type": "RequestMirror",
                "requestMirror": {
                    "backendRef": _backend(pipeline, traffic.mirror.variant),
                    "percent": traffic.mirror.percent,
                },
            }
        ]
    spec: dict[str, Any] = {"parentRefs": parent_refs(traffic.gateway_api), "rules": [rule]}
    if traffic.gateway_api.hostnames:
        spec["hostnames"] = list(traffic.gateway_api.hostnames)
    return {
        "apiVersion": ROUTE_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": metadata(pipeline, None, "route"),
        "spec": spec,
    }
