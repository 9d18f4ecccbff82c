"""Per variant: a PodDisruptionBudget that lets voluntary evictions take one pod at a time."""

from __future__ import annotations

from typing import Any

from evolved_operator.api import Variant
from evolved_operator.render.meta import Owner, metadata, selector


def render_pdb(owner: Owner, variant: Variant) -> dict[str, Any]:
    """maxUnavailable 1: a drain never takes a variant's pods down together, and never blocks for ever
    (a one-replica variant can still be evicted, unlike minAvailable 1)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(owner, variant.name, "disruption-budget"),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(owner, variant.name)}},
    }
