"""Per variant with autoscaling: an autoscaling/v2 HorizontalPodAutoscaler for that variant alone."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Autoscaling, Variant
from evolved_operator.render.labels import child_name, metadata
from evolved_operator.render.pipeline import PipelineInput

DEFAULT_CPU_PERCENT = 80
RPS_METRIC = "evolved_requests_per_second"


def metrics(autoscaling: Autoscaling) -> list[dict[str, Any]]:
    """CPU utilization (80% when no target is set) and/or requests per second per pod."""
    out: list[dict[str, Any]] = []
    cpu = autoscaling.target_cpu_utilization_percentage
    if cpu is None and autoscaling.target_requests_per_second is None:
        cpu = DEFAULT_CPU_PERCENT
    if cpu is not None:
        out.append(
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}},
            }
        )
    if autoscaling.target_requests_per_second is not None:
        target = {"type": "AverageValue", "averageValue": str(autoscaling.target_requests_per_second)}
        out.append({"type": "Pods", "pods": {"metric": {"name": RPS_METRIC}, "target": target}})
    return out


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
