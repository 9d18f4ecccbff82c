"""Drift: someone changed a field of a child that the operator sets (``kubectl set image``,
``kubectl edit``, another controller), and the operator puts it back.

Server-side apply records which manager owns which field in ``metadata.managedFields``. When
another manager changes a field the operator applied, the apiserver moves that field's ownership
to the other manager, so the operator's own ``Apply`` entry shrinks. The watch cache keeps a hash
of that entry (:func:`owned_fields_hash`); :func:`judge` compares it with the baseline taken when
the child last showed the operator's applied hash unchallenged. No values are compared: apiserver
defaults, fields the operator does not set (an HPA's replicas, ``kubectl rollout restart``'s
annotation, a label someone adds) and status never count as drift, and nothing needs normalising.

The re-apply (with ``force``) takes the fields back. Until an event shows that, events still showing
the drift are older than the re-apply and are passed over, so one drift is one re-apply and one
event; a controller that keeps fighting costs one apply per change it makes, never a loop of ours.
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


@dataclass(frozen=True)
class Revert:
    """A drift being put back: the ownership to return to, and who had taken fields."""

    owned_fields: str
    writers: frozenset[str]


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
    baseline: Baseline | None,
    applied_hash: str | None,
    owned_fields: str | None,
    writers: tuple[str, ...],
    reverting: Revert | None,
) -> tuple[Baseline | None, bool, Revert | None]:
    """(the baseline to keep, whether the child drifted, the revert still to be confirmed) for one
    watch event of a child.

    A new applied hash (the operator applied a new version) or a first sight sets the baseline.
    The same applied hash with other owned fields is drift, unless a revert is under way: then an
    event that still shows the fields taken by the same writers is older than the re-apply and is
    passed over, and the first that shows the ownership restored (or those writers gone) ends the
    revert and sets the baseline."""
    if applied_hash is None or owned_fields is None:
        return baseline, False, reverting  # not (yet) applied by this operator: nothing to defend
    if baseline is None or baseline.applied_hash != applied_hash:
        return Baseline(applied_hash, owned_fields), False, None
    if reverting is not None:
        if owned_fields == reverting.owned_fields or not reverting.writers & set(writers):
            return Baseline(applied_hash, owned_fields), False, None
        return baseline, False, reverting
    if owned_fields == baseline.owned_fields:
        return baseline, False, None
    return baseline, True, Revert(baseline.owned_fields, frozenset(writers))
