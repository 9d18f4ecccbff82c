"""Per variant: a ClusterIP Service over that variant's ready pods."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Variant
from evolved_operator.render.deployment import PORT_NAME
from evolved_operator.render.labels import metadata, selector
from evolved_operator.render.pipeline import PipelineInput

SERVICE_PORT = 80


def service_ports() -> list[dict[str, Any]]:
    return [{"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": PORT_NAME, "protocol": "TCP"}]


def render_service(pipeline: PipelineInput, variant: Variant) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(pipeline, variant, "worker"),
        "spec": {"type": "ClusterIP", "selector": selector(pipeline.name, variant.name), "ports": service_ports()},
    }
