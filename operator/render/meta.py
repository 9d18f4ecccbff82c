"""Names, labels and owner references shared by every rendered object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evolved_operator.constants import API_VERSION, KIND, LABEL_MANAGED_BY, LABEL_PIPELINE, LABEL_VARIANT, MANAGED_BY


@dataclass(frozen=True)
class Owner:
    """The EvolvedPipeline being rendered: what owner references and labels need."""

    name: str
    namespace: str
    uid: str

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def child_name(owner: Owner, variant: str | None) -> str:
    return owner.name if variant is None else f"{owner.name}-{variant}"


def selector(owner: Owner, variant: str | None) -> dict[str, str]:
    """Labels that select the pods of a variant (or of every variant when None)."""
    out = {LABEL_PIPELINE: owner.name}
    if variant is not None:
        out[LABEL_VARIANT] = variant
    return out


def labels(owner: Owner, variant: str | None, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "evolved-runtime",
        "app.kubernetes.io/instance": child_name(owner, variant),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": owner.name,
        LABEL_MANAGED_BY: MANAGED_BY,
        **selector(owner, variant),
    }


def metadata(owner: Owner, variant: str | None, component: str, name: str | None = None) -> dict[str, Any]:
    return {
        "name": name or child_name(owner, variant),
        "namespace": owner.namespace,
        "labels": labels(owner, variant, component),
        "ownerReferences": [owner.reference()],
    }
