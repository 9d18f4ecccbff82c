"""Provider ``service``: the entry Service, named like the pipeline, over every variant's ready
worker pods, so each variant's share of requests follows its share of ready replicas."""

from __future__ import annotations

from typing import Any

from evolved_operator.render.labels import metadata, selector
from evolved_operator.render.pipeline import PipelineInput
from evolved_operator.render.service import service_ports

WORKER = {"app.kubernetes.io/component": "worker"}


def render_entry_service(pipeline: PipelineInput) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(pipeline, None, "entry"),
        "spec": {
            "type": "ClusterIP",
            "selector": {**selector(pipeline.name, None), **WORKER},
            "ports": service_ports(),
        },
    }
