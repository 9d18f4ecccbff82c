"""The HorizontalPodAutoscaler of an autoscaled variant."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.render import PipelineInput, render_all


def hpa(autoscaling: dict[str, Any]) -> dict[str, Any]:
    doc = {"variants": [{"name": "stable", "autoscaling": autoscaling}]}
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), {})
    found = [o for o in render_all(p) if o["kind"] == "HorizontalPodAutoscaler"]
    assert [o["metadata"]["name"] for o in found] == ["qa-stable"]
    return dict(found[0]["spec"])


def test_the_hpa_scales_its_variants_deployment_between_the_bounds() -> None:
    spec = hpa({"minReplicas": 2, "maxReplicas": 6})
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qa-stable"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)


def cpu(percent: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}},
    }


@pytest.mark.parametrize(
    ("autoscaling", "metrics"),
    [
        ({"maxReplicas": 4}, [cpu(80)]),
        ({"maxReplicas": 4, "targetCPUUtilizationPercentage": 55}, [cpu(55)]),
    ],
    ids=["cpu 80 percent by default", "a cpu target"],
)
def test_hpa_metrics_follow_the_targets(autoscaling: dict[str, Any], metrics: list[dict[str, Any]]) -> None:
    assert hpa(autoscaling)["metrics"] == metrics
