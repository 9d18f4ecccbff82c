"""Pure builders: a pipeline and its resolved programs in, plain dicts ready for server-side apply out.

Every object has apiVersion, kind, metadata (name, namespace, labels, a controller owner
reference to the EvolvedPipeline) and the fields the operator owns; nothing else.
"""

from __future__ import annotations

from typing import Any

from evolved_operator.render.configmap import render_configmap, runtime_config
from evolved_operator.render.deployment import render_deployment, variant_program_hash
from evolved_operator.render.hpa import render_hpa
from evolved_operator.render.labels import child_name, owner_reference
from evolved_operator.render.pdb import render_pdb
from evolved_operator.render.pipeline import PipelineInput, UnresolvedProgram
from evolved_operator.render.service import render_service


def render_all(pipeline: PipelineInput) -> list[dict[str, Any]]:
    """Every variant's children: a ConfigMap, Deployment, Service, (with autoscaling) an HPA and (when
    it can have two pods or more) a PodDisruptionBudget. The entry point comes from the traffic
    provider (``evolved_operator.traffic``). Raises UnresolvedProgram when a ConfigMap program is
    missing from ``pipeline.programs``."""
    objects: list[dict[str, Any]] = []
    for variant in pipeline.spec.variants:
        objects.append(render_configmap(pipeline, variant))
        objects.append(render_deployment(pipeline, variant))
        objects.append(render_service(pipeline, variant))
        hpa = render_hpa(pipeline, variant)
        if hpa is not None:
            objects.append(hpa)
        if variant.most_replicas() >= 2:  # with one pod at most, `maxUnavailable: 1` protects nothing
            objects.append(render_pdb(pipeline, variant))
    return objects


def program_hashes(pipeline: PipelineInput) -> dict[str, str]:
    """Variant -> hash of its programs (as set in EVOLVED_PROGRAM_HASH and reported in status)."""
    return {v.name: variant_program_hash(pipeline, v) for v in pipeline.spec.variants}


__all__ = [
    "PipelineInput",
    "UnresolvedProgram",
    "child_name",
    "owner_reference",
    "program_hashes",
    "render_all",
    "runtime_config",
]
