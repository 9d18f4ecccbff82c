"""Provider ``router``: the pipeline's router pods (``evolved-runtime router``) and what they need.

The router watches its pipeline (weights in ``status.traffic``, sticky and mirror in
``spec.traffic``) and the variant Services' EndpointSlices, and reports the weights it applies on
the Lease ``<pipeline>-router``. Objects, all named ``<pipeline>-router`` but the entry Service
(named like the pipeline): ServiceAccount, Role (exactly those reads and that one Lease),
RoleBinding, Lease, Deployment, entry Service, PodDisruptionBudget (two pods or more) and a
HorizontalPodAutoscaler (unless ``traffic.router.replicas`` fixes the count).
"""

from __future__ import annotations

from typing import Any

from evolved_operator.api import ROUTER_NAME, Autoscaling
from evolved_operator.api_traffic import RouterSettings
from evolved_operator.children import ROUTER_RULES
from evolved_operator.constants import LABEL_PIPELINE
from evolved_operator.render.deployment import PORT, PORT_NAME, RESTRICTED
from evolved_operator.render.hpa import metrics
from evolved_operator.render.labels import child_name, labels, owner_reference
from evolved_operator.render.pipeline import PipelineInput
from evolved_operator.render.service import service_ports

COMPONENT = "router"
LABEL_COMPONENT = "app.kubernetes.io/component"
CONTAINER = "router"
DEFAULT_MIN_REPLICAS = 2
DEFAULT_MAX_REPLICAS = 10
RESOURCES = {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"memory": "256Mi"}}
WEIGHTS_ANNOTATION = "pipelines.evolved.io/router-weights"


def router_name(pipeline: str) -> str:
    return f"{pipeline}-{ROUTER_NAME}"


def router_selector(pipeline: str) -> dict[str, str]:
    return {LABEL_PIPELINE: pipeline, LABEL_COMPONENT: COMPONENT}


def _metadata(pipeline: PipelineInput, name: str | None = None) -> dict[str, Any]:
    name = name or router_name(pipeline.name)
    object_labels = labels(pipeline, None, COMPONENT)
    object_labels["app.kubernetes.io/instance"] = name
    return {
        "name": name,
        "namespace": pipeline.namespace,
        "labels": object_labels,
        "ownerReferences": [owner_reference(pipeline)],
    }


def _settings(pipeline: PipelineInput) -> RouterSettings:
    return pipeline.spec.traffic_settings().router or RouterSettings()


def replica_range(settings: RouterSettings) -> tuple[int, int] | None:
    """(min, max) when autoscaled, None for a fixed count."""
    if settings.replicas is not None:
        return None
    low = settings.min_replicas or DEFAULT_MIN_REPLICAS
    return low, max(low, settings.max_replicas or DEFAULT_MAX_REPLICAS)


def _probe(period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/healthz", "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def render_deployment(pipeline: PipelineInput) -> dict[str, Any]:
    settings = _settings(pipeline)
    container = {
        "name": CONTAINER,
        "image": pipeline.spec.image.full_reference(),
        "imagePullPolicy": pipeline.spec.image.pull_policy,
        "args": ["evolved-runtime", "router", "--host", "0.0.0.0", "--port", str(PORT)],
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
        "env": [
            {"name": "EVOLVED_PIPELINE", "value": pipeline.name},
            {"name": "EVOLVED_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        ],
        "startupProbe": _probe(1, 30),
        "livenessProbe": _probe(10, 3),
        "readinessProbe": _probe(2, 2),
        "resources": RESOURCES,
        "securityContext": dict(RESTRICTED),
    }
    pod_labels = {**pipeline.spec.pod.labels, **labels(pipeline, None, COMPONENT)}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": router_selector(pipeline.name)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "revisionHistoryLimit": 5,
        "template": {
            "metadata": {"labels": pod_labels, "annotations": dict(pipeline.spec.pod.annotations)},
            "spec": {
                "serviceAccountName": router_name(pipeline.name),
                "containers": [container],
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "terminationGracePeriodSeconds": 30,
            },
        },
    }
    if settings.replicas is not None:
        spec["replicas"] = settings.replicas
    pod = pipeline.spec.pod
    if pod.node_selector:
        spec["template"]["spec"]["nodeSelector"] = dict(pod.node_selector)
    if pod.tolerations:
        spec["template"]["spec"]["tolerations"] = [
            t.model_dump(by_alias=True, exclude_none=True) for t in pod.tolerations
        ]
    if pipeline.spec.image.pull_secrets:
        spec["template"]["spec"]["imagePullSecrets"] = [{"name": n} for n in pipeline.spec.image.pull_secrets]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _metadata(pipeline), "spec": spec}


def render_service(pipeline: PipelineInput) -> dict[str, Any]:
    """The pipeline's entry Service (named like the pipeline) over the router pods."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(pipeline, child_name(pipeline.name, None)),
        "spec": {"type": "ClusterIP", "selector": router_selector(pipeline.name), "ports": service_ports()},
    }


def render_access(pipeline: PipelineInput) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding: read this pipeline and the EndpointSlices of its
    namespace, write this pipeline's router Lease; nothing else."""
    name = router_name(pipeline.name)
    named = {"evolvedpipelines": [pipeline.name], "leases": [name]}
    rules = []
    for group, resource, verbs in ROUTER_RULES:
        rule: dict[str, Any] = {"apiGroups": [group], "resources": [resource], "verbs": list(verbs)}
        if resource in named:
            rule["resourceNames"] = named[resource]
        rules.append(rule)
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(pipeline)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _metadata(pipeline), "rules": rules},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _metadata(pipeline),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": pipeline.namespace}],
        },
    ]


def render_lease(pipeline: PipelineInput) -> dict[str, Any]:
    """Where the router reports the weights it applies (annotation and ``spec.renewTime``, which
    the operator never sets, so the two writers own separate fields)."""
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": _metadata(pipeline)}


def render_scaling(pipeline: PipelineInput) -> list[dict[str, Any]]:
    """An HPA (unless the count is fixed) and, with two pods or more, a PodDisruptionBudget."""
    settings = _settings(pipeline)
    span = replica_range(settings)
    out: list[dict[str, Any]] = []
    if span is not None:
        out.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": _metadata(pipeline),
                "spec": {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": router_name(pipeline.name),
                    },
                    "minReplicas": span[0],
                    "maxReplicas": span[1],
                    "metrics": metrics(Autoscaling(min_replicas=span[0], max_replicas=span[1])),
                },
            }
        )
    most = span[1] if span is not None else int(settings.replicas or 1)
    if most >= 2:
        out.append(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": _metadata(pipeline),
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": router_selector(pipeline.name)}},
            }
        )
    return out


def render_router(pipeline: PipelineInput) -> list[dict[str, Any]]:
    return [
        *render_access(pipeline),
        render_lease(pipeline),
        render_service(pipeline),
        render_deployment(pipeline),
        *render_scaling(pipeline),
    ]
