"""Per variant: the Deployment of worker pods running the shared runtime image."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Variant
from evolved_operator.constants import ANNOTATION_CONTENT_HASH, ANNOTATION_PROGRAM_HASH
from evolved_operator.render.configmap import CONFIG_DIR, CONFIG_KEY, config_json, program_key
from evolved_operator.render.hashing import content_hash, program_hash
from evolved_operator.render.labels import child_name, labels, metadata, selector
from evolved_operator.render.llm_path import secret_env_vars
from evolved_operator.render.pipeline import PipelineInput

PORT = 8080
PORT_NAME = "http"
RUNTIME_UID = 10001
CONTAINER = "runtime"
PROGRESS_DEADLINE_SECONDS = 600


def variant_program_hash(pipeline: PipelineInput, variant: Variant) -> str:
    """Reported in status, annotated on the pods and set as EVOLVED_PROGRAM_HASH."""
    return program_hash(pipeline.sources(variant), pipeline.paths(variant))


def _env(pipeline: PipelineInput, variant: Variant) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "EVOLVED_PIPELINE", "value": pipeline.name},
        {"name": "EVOLVED_VARIANT", "value": variant.name},
        {"name": "EVOLVED_PROGRAM_HASH", "value": variant_program_hash(pipeline, variant)},
        {"name": "EVOLVED_CONFIG", "value": f"{CONFIG_DIR}/{CONFIG_KEY}"},
    ]
    env.extend(secret_env_vars(pipeline.spec))
    env.extend({"name": e.name, "value": e.value} for e in variant.env)
    return env


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": RUNTIME_UID,
    "runAsGroup": RUNTIME_UID,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _container(pipeline: PipelineInput, variant: Variant, env: list[dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": pipeline.spec.image.full_reference(),
        "imagePullPolicy": pipeline.spec.image.pull_policy,
        "args": ["evolved-runtime", "serve", "--host", "0.0.0.0", "--port", str(PORT)],
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
        "env": env,
        "startupProbe": _probe("/health", 2, 30),
        "livenessProbe": _probe("/health", 10, 3),
        "readinessProbe": _probe("/ready", 5, 2),
        "securityContext": dict(RESTRICTED),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if variant.resources is not None:
        container["resources"] = variant.resources.model_dump(by_alias=True, exclude_none=True)
    return container


def _pod_spec(pipeline: PipelineInput, variant: Variant, container: dict[str, Any]) -> dict[str, Any]:
    spec, pod = pipeline.spec, pipeline.spec.pod
    items = [{"key": CONFIG_KEY, "path": CONFIG_KEY}]
    items += [{"key": program_key(c), "path": f"programs/{program_key(c)}"} for c in sorted(pipeline.sources(variant))]
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "securityContext": {"runAsNonRoot": True, "fsGroup": RUNTIME_UID, "seccompProfile": {"type": "RuntimeDefault"}},
        "terminationGracePeriodSeconds": 30,
        "volumes": [
            {"name": "config", "configMap": {"name": child_name(pipeline.name, variant.name), "items": items}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if spec.image.pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": n} for n in spec.image.pull_secrets]
    if pod.node_selector:
        pod_spec["nodeSelector"] = dict(pod.node_selector)
    if pod.tolerations:
        pod_spec["tolerations"] = [t.model_dump(by_alias=True, exclude_none=True) for t in pod.tolerations]
    if pod.affinity:
        pod_spec["affinity"] = pod.affinity
    if pod.service_account_name:
        pod_spec["serviceAccountName"] = pod.service_account_name
    return pod_spec


def template_hash(deployment: dict[str, Any]) -> str:
    """The content hash :func:`render_deployment` put in the pod template (a config, program or
    env change changes it, and so rolls the Deployment)."""
    return str(deployment["spec"]["template"]["metadata"]["annotations"][ANNOTATION_CONTENT_HASH])


def render_deployment(pipeline: PipelineInput, variant: Variant) -> dict[str, Any]:
    """No ``spec.replicas`` when an HPA manages the variant (the HPA owns that field)."""
    env = _env(pipeline, variant)
    pod_annotations = {
        **pipeline.spec.pod.annotations,
        ANNOTATION_CONTENT_HASH: content_hash(config_json(pipeline, variant), pipeline.sources(variant), env),
        ANNOTATION_PROGRAM_HASH: variant_program_hash(pipeline, variant),
    }
    template = {
        "metadata": {
            "labels": {**pipeline.spec.pod.labels, **labels(pipeline, variant.name, "worker")},
            "annotations": pod_annotations,
        },
        "spec": _pod_spec(pipeline, variant, _container(pipeline, variant, env)),
    }
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector(pipeline.name, variant.name)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": pipeline.spec.rolling_update.model_dump(by_alias=True)},
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
        "template": template,
    }
    if variant.autoscaling is None:
        spec["replicas"] = variant.desired_replicas()
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(pipeline, variant, "worker"),
        "spec": spec,
    }
