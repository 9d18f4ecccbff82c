"""Per variant with autoscaling: an autoscaling/v2 HorizontalPodAutoscaler for that variant alone."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Autoscaling, Variant
from evolved_operator.render.labels import child_name, metadata
from evolved_operator.render.pipeline import PipelineInput

DEFAULT_CPU_PERCENT = 80


def metrics(autoscaling: Autoscaling) -> list[dict[str, Any]]:
    """CPU utilization of the pods' CPU request (80% when no target is set)."""
    cpu = autoscaling.target_cpu_utilization_percentage or DEFAULT_CPU_PERCENT
    return [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}
    ]


def render_hpa(pipeline: PipelineInput, variant: Variant) -> dict[str, Any] | None:
    if variant.autoscaling is None:
        return None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(pipeline, variant, "autoscaler"),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": child_name(pipeline.name, variant.name),
            },
            "minReplicas": variant.autoscaling.min_replicas,
            "maxReplicas": variant.autoscaling.max_replicas,
            "metrics": metrics(variant.autoscaling),
        },
    }
