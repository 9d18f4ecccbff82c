"""Drift: someone changed a field of a child that the operator sets (``kubectl set image``,
``kubectl edit``, another controller), and the operator puts it back.

Server-side apply records which manager owns which field in ``metadata.managedFields``. When
another manager changes a field the operator applied, the apiserver moves that field's ownership
to the other manager, so the operator's own ``Apply`` entry shrinks. The watch cache keeps a hash
of that entry (:func:`owned_fields_hash`); :func:`judge` compares it with the baseline taken when
the child last showed the operator's applied hash unchallenged. No values are compared: apiserver
defaults, fields the operator does not set (an HPA's replicas, ``kubectl rollout restart``'s
annotation, a label someone adds) and status never count as drift, and nothing needs normalising.

The re-apply (with ``force``) takes the fields back; the event it causes sets a new baseline, so a
controller that keeps fighting costs one apply per change it makes, never a loop of our own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evolved_operator.constants import FIELD_MANAGER


@dataclass(frozen=True)
class Baseline:
    """The operator's field ownership of a child as last seen undisturbed."""

    applied_hash: str
    owned_fields: str


def owned_fields_hash(meta: Mapping[str, Any]) -> str | None:
    """A hash of the fields the operator's server-side applies own (None: it owns none here)."""
    for entry in meta.get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Apply" and not entry.get("subresource"):
            encoded = json.dumps(entry.get("fieldsV1") or {}, sort_keys=True, separators=(",", ":")).encode()
            return hashlib.sha256(encoded).hexdigest()[:16]
    return None


def other_writers(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """Managers other than the operator that wrote the object itself (not its status or scale)."""
    return tuple(
        sorted(
            {
                str(e.get("manager"))
                for e in meta.get("managedFields") or []
                if e.get("manager") != FIELD_MANAGER and not e.get("subresource")
            }
        )
    )


def judge(
    baseline: Baseline | None, applied_hash: str | None, owned_fields: str | None, rebaseline: bool
) -> tuple[Baseline | None, bool]:
    """(the baseline to keep, whether the child drifted) for one watch event of a child.

    A new applied hash (the operator applied a new version), a first sight, or an event after a
    drift re-apply (``rebaseline``) sets the baseline; the same applied hash with other owned
    fields is drift."""
    if applied_hash is None or owned_fields is None:
        return baseline, False  # not (yet) applied by this operator: nothing to defend
    if baseline is None or rebaseline or baseline.applied_hash != applied_hash:
        return Baseline(applied_hash, owned_fields), False
    return baseline, baseline.owned_fields != owned_fields
