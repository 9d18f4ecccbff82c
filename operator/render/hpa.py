"""Per variant with autoscaling: an autoscaling/v2 HorizontalPodAutoscaler for that variant alone."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Autoscaling, Variant
from evolved_operator.render.meta import Owner, child_name, metadata

DEFAULT_CPU_PERCENT = 80
RPS_METRIC = "evolved_requests_per_second"


def metrics(autoscaling: Autoscaling) -> list[dict[str, Any]]:
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
        out.append(
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": RPS_METRIC},
                    "target": {"type": "AverageValue", "averageValue": str(autoscaling.target_requests_per_second)},
                },
            }
        )
    return out


def render_hpa(owner: Owner, variant: Variant) -> dict[str, Any] | None:
    if variant.autoscaling is None:
        return None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(owner, variant.name, "autoscaler"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": child_name(owner, variant.name)},
            "minReplicas": variant.autoscaling.min_replicas,
            "maxReplicas": variant.autoscaling.max_replicas,
            "metrics": metrics(variant.autoscaling),
        },
    }
