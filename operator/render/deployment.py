"""Per variant: the Deployment of worker pods running the shared runtime image."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from evolved_operator.api import EvolvedPipelineSpec, Variant
from evolved_operator.constants import ANNOTATION_CONTENT_HASH, ANNOTATION_PROGRAM_HASH
from evolved_operator.render.configmap import CONFIG_KEY, LLM_KEY_ENV, PROGRAMS_DIR
from evolved_operator.render.meta import Owner, child_name, labels, metadata, selector

PORT = 8080
RUNTIME_UID = 10001


def content_hash(configmap: dict[str, Any], variant: Variant, spec: EvolvedPipelineSpec) -> str:
    """What the pods run: config, programs, env and image. A change rolls the Deployment."""
    payload = {
        "data": configmap["data"],
        "env": [e.model_dump() for e in variant.env],
        "paths": {c: s.path for c, s in variant.programs.sources().items() if s.path},
        "image": spec.image.reference(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def program_hash(configmap: dict[str, Any], variant: Variant) -> str:
    """Hash of the variant's programs alone (reported in status, set as EVOLVED_PROGRAM_HASH)."""
    programs = {k: v for k, v in configmap["data"].items() if k != CONFIG_KEY}
    programs.update({f"path:{c}": s.path for c, s in variant.programs.sources().items() if s.path})
    return hashlib.sha256(json.dumps(programs, sort_keys=True).encode()).hexdigest()[:16]


def _resources(variant: Variant) -> dict[str, Any]:
    if variant.resources is None:
        return {}
    return variant.resources.model_dump(by_alias=True, exclude_none=True)


def _env(owner: Owner, spec: EvolvedPipelineSpec, variant: Variant, programs_hash: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "EVOLVED_PIPELINE", "value": owner.name},
        {"name": "EVOLVED_VARIANT", "value": variant.name},
        {"name": "EVOLVED_PROGRAM_HASH", "value": programs_hash},
        {"name": "EVOLVED_CONFIG", "value": f"/etc/evolved/{CONFIG_KEY}"},
    ]
    if spec.llm is not None and spec.llm.api_key_secret_ref is not None:
        ref = spec.llm.api_key_secret_ref
        env.append({"name": LLM_KEY_ENV, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}})
    env.extend({"name": e.name, "value": e.value} for e in variant.env)
    return env


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def render_deployment(
    owner: Owner, spec: EvolvedPipelineSpec, variant: Variant, configmap: dict[str, Any]
) -> dict[str, Any]:
    hash_all = content_hash(configmap, variant, spec)
    programs_hash = program_hash(configmap, variant)
    program_items = [{"key": key, "path": f"programs/{key}"} for key in sorted(configmap["data"]) if key != CONFIG_KEY]
    pod_labels = {**spec.pod.labels, **labels(owner, variant.name, "worker")}
    pod_annotations = {
        **spec.pod.annotations,
        ANNOTATION_CONTENT_HASH: hash_all,
        ANNOTATION_PROGRAM_HASH: programs_hash,
    }
    container: dict[str, Any] = {
        "name": "runtime",
        "image": spec.image.reference(),
        "imagePullPolicy": spec.image.pull_policy,
        "args": ["evolved-runtime", "serve", "--host", "0.0.0.0", "--port", str(PORT)],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": _env(owner, spec, variant, programs_hash),
        "livenessProbe": _probe("/health", 10, 3),
        "readinessProbe": _probe("/ready", 5, 2),
        "startupProbe": _probe("/health", 2, 30),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUNTIME_UID,
            "runAsGroup": RUNTIME_UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/evolved", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if variant.resources is not None:
        container["resources"] = _resources(variant)
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "securityContext": {"runAsNonRoot": True, "fsGroup": RUNTIME_UID, "seccompProfile": {"type": "RuntimeDefault"}},
        "terminationGracePeriodSeconds": 30,
        "volumes": [
            {
                "name": "config",
                "configMap": {
                    "name": configmap["metadata"]["name"],
                    "items": [{"key": CONFIG_KEY, "path": CONFIG_KEY}, *program_items],
                },
            },
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if spec.image.pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": n} for n in spec.image.pull_secrets]
    if spec.pod.node_selector:
        pod_spec["nodeSelector"] = dict(spec.pod.node_selector)
    if spec.pod.tolerations:
        pod_spec["tolerations"] = [t.model_dump(by_alias=True, exclude_none=True) for t in spec.pod.tolerations]
    if spec.pod.affinity:
        pod_spec["affinity"] = spec.pod.affinity
    if spec.pod.service_account_name:
        pod_spec["serviceAccountName"] = spec.pod.service_account_name
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": selector(owner, variant.name)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": spec.rolling_update.model_dump(by_alias=True),
        },
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": 600,
        "template": {"metadata": {"labels": pod_labels, "annotations": pod_annotations}, "spec": pod_spec},
    }
    if variant.autoscaling is None:
        deployment_spec["replicas"] = variant.desired_replicas()
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(owner, variant.name, "worker", child_name(owner, variant.name)),
        "spec": deployment_spec,
    }


__all__ = ["PROGRAMS_DIR", "content_hash", "program_hash", "render_deployment"]
