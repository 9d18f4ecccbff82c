"""Helpers for tests and tools that drive EvolvedPipelines through kubectl."""

from __future__ import annotations

from typing import Any

import yaml

from e2e.kube import Kubectl, wait_for
from evolved_operator.constants import LABEL_PIPELINE

ROUTER_V1 = "from evolved_runtime.programs.defaults.router import route  # v1\n"
ROUTER_V2 = "from evolved_runtime.programs.defaults.router import route  # v2\n"


def pipeline(name: str, namespace: str, *, router: str = ROUTER_V1, autoscaling: bool = False) -> dict[str, Any]:
    stable: dict[str, Any] = {
        "name": "stable",
        "role": "stable",
        "replicas": 2,
        "programs": {"router": {"inline": router}},
    }
    candidate: dict[str, Any] = {"name": "candidate", "role": "candidate", "replicas": 1}
    if autoscaling:
        stable.pop("replicas")
        stable["autoscaling"] = {"minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70}
    return {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"variants": [stable, candidate]},
    }


def apply(kubectl: Kubectl, obj: dict[str, Any]) -> None:
    kubectl.run("apply", "--server-side", "--field-manager", "gitops", "-f", "-", stdin=yaml.safe_dump(obj))


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for cond in (obj or {}).get("status", {}).get("conditions", []):
        if cond["type"] == kind:
            return dict(cond)
    return {}


def wait_ready(kubectl: Kubectl, name: str, namespace: str, timeout: float = 90) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        obj = kubectl.get("evp", name, "-n", namespace)
        if not obj:
            return None
        current = obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"]
        return obj if current and condition(obj, "Ready").get("status") == "True" else None

    return wait_for(f"{name} to be Ready", ready, timeout=timeout)


def owned(kubectl: Kubectl, kind: str, name: str, namespace: str, component: str | None = None) -> list[dict[str, Any]]:
    """Objects of pipeline ``name``; ``component`` narrows them (``worker``: the variants', ``router``)."""
    selector = f"{LABEL_PIPELINE}={name}" + (f",app.kubernetes.io/component={component}" if component else "")
    return kubectl.items(kind, "-n", namespace, "-l", selector)
