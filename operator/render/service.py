"""Services: one per variant, and the pipeline's entry Service that spans every variant."""

from __future__ import annotations

from typing import Any

from evolved_operator.render.deployment import PORT
from evolved_operator.render.meta import Owner, metadata, selector


def render_service(owner: Owner, variant: str | None) -> dict[str, Any]:
    """``variant=None`` renders the entry Service: it selects the ready pods of all variants."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(owner, variant, "entry" if variant is None else "worker"),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(owner, variant),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


__all__ = ["PORT", "render_service"]
