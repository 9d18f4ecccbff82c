"""Per variant: a PodDisruptionBudget that lets voluntary evictions take one pod at a time."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Variant
from evolved_operator.render.labels import metadata, selector
from evolved_operator.render.pipeline import PipelineInput


def render_pdb(pipeline: PipelineInput, variant: Variant) -> dict[str, Any]:
    """``maxUnavailable: 1``: a drain never takes a variant's pods down together, and never blocks
    for ever (a one-replica variant can still be evicted, unlike with ``minAvailable: 1``)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(pipeline, variant, "disruption-budget"),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(pipeline.name, variant.name)}},
    }
