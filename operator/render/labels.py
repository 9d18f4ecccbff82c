"""Names, labels and owner references shared by every rendered object."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Variant
from evolved_operator.constants import (
    API_VERSION,
    GROUP,
    KIND,
    LABEL_MANAGED_BY,
    LABEL_PIPELINE,
    LABEL_VARIANT,
    MANAGED_BY,
)
from evolved_operator.render.pipeline import PipelineInput

APP_NAME = "evolved-runtime"
LABEL_ROLE = f"{GROUP}/role"


def child_name(pipeline: str, variant: str | None) -> str:
    """``<pipeline>-<variant>`` for a variant's objects, ``<pipeline>`` for the entry Service."""
    return pipeline if variant is None else f"{pipeline}-{variant}"


def selector(pipeline: str, variant: str | None) -> dict[str, str]:
    """Labels that select a variant's pods, or every variant's pods when ``variant`` is None."""
    out = {LABEL_PIPELINE: pipeline}
    if variant is not None:
        out[LABEL_VARIANT] = variant
    return out


def labels(pipeline: PipelineInput, variant: str | None, component: str) -> dict[str, str]:
    """The app.kubernetes.io/* labels plus the pipeline (and variant) selector labels."""
    return {
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/instance": child_name(pipeline.name, variant),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": pipeline.name,
        LABEL_MANAGED_BY: MANAGED_BY,
        **selector(pipeline.name, variant),
    }


def owner_reference(pipeline: PipelineInput) -> dict[str, Any]:
    """The EvolvedPipeline as controller owner: deleting it deletes every child."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": pipeline.name,
        "uid": pipeline.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def metadata(pipeline: PipelineInput, variant: Variant | None, component: str) -> dict[str, Any]:
    """Metadata of a child object. A variant's objects also carry its role (its pods do not, so a
    change of role never restarts them)."""
    object_labels = labels(pipeline, variant.name if variant else None, component)
    if variant is not None:
        object_labels[LABEL_ROLE] = variant.role
    return {
        "name": child_name(pipeline.name, variant.name if variant else None),
        "namespace": pipeline.namespace,
        "labels": object_labels,
        "ownerReferences": [owner_reference(pipeline)],
    }
