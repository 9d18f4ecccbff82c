"""Pure decisions of a reconcile: which desired objects to apply, which children to delete.

Each desired object carries the hash of its own content in an annotation; a child whose
annotation already holds that hash is left alone, so a reconcile with nothing to change makes
no API request at all (and never bumps a resourceVersion).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evolved_operator.cache import Child, ChildKey
from evolved_operator.children import APPLY_ORDER
from evolved_operator.constants import ANNOTATION_APPLIED_HASH
from evolved_operator.problems import Problem


def content_hash(obj: dict[str, Any]) -> str:
    """A stable hash of an object as rendered (before the hash annotation is added)."""
    encoded = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def with_applied_hash(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with the hash of its content in ``metadata.annotations``."""
    stamped = copy.deepcopy(obj)
    annotations = stamped.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[ANNOTATION_APPLIED_HASH] = content_hash(obj)
    return stamped


def _order(obj: dict[str, Any]) -> int:
    kind = str(obj["kind"])
    return APPLY_ORDER.index(kind) if kind in APPLY_ORDER else len(APPLY_ORDER)


def key_of(obj: dict[str, Any]) -> ChildKey:
    return (str(obj["kind"]), str(obj["metadata"]["name"]))


@dataclass(frozen=True)
class ApplyPlan:
    """What a reconcile writes: objects to apply (stamped) and children to delete."""

    to_apply: list[dict[str, Any]]
    to_delete: list[Child]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not self.to_apply and not self.to_delete

    def summary(self) -> str:
        applied = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in self.to_apply) or "none"
        deleted = ", ".join(f"{c.kind}/{c.name}" for c in self.to_delete) or "none"
        return f"applied {applied}; deleted {deleted}; unchanged {self.unchanged}"


def plan(
    desired: list[dict[str, Any]], observed: dict[ChildKey, Child], force: frozenset[ChildKey] = frozenset()
) -> ApplyPlan:
    """Compare desired objects with observed children; ``force``: children that drifted (applied
    again although their hash matches: see :mod:`evolved_operator.drift`)."""
    stamped = [with_applied_hash(obj) for obj in desired]
    wanted = {key_of(obj): obj for obj in stamped}
    to_apply = []
    unchanged = 0
    for key, obj in wanted.items():
        child = observed.get(key)
        current = child is not None and child.applied_hash == obj["metadata"]["annotations"][ANNOTATION_APPLIED_HASH]
        if current and key not in force:
            unchanged += 1
        else:
            to_apply.append(obj)
    to_apply.sort(key=_order)
    to_delete = [child for key, child in sorted(observed.items()) if key not in wanted]
    return ApplyPlan(to_apply=to_apply, to_delete=to_delete, unchanged=unchanged)


def name_conflicts(pipeline: str, desired: list[dict[str, Any]], owners: Mapping[ChildKey, str]) -> list[Problem]:
    """Desired children whose names another pipeline's children hold (``owners``: (kind, name) ->
    that pipeline, one that takes precedence: the older). Children are named
    ``<pipeline>-<variant>``, so pipeline ``a`` with variant ``b-c`` and pipeline ``a-b`` with
    variant ``c`` both want ``a-b-c``: applying would take the other pipeline's objects over
    (its Service would select this pipeline's pods), so the pipeline stalls instead."""
    taken: dict[str, list[str]] = {}
    for key in sorted(key_of(obj) for obj in desired):
        if key in owners:
            taken.setdefault(owners[key], []).append(f"{key[0]}/{key[1]}")
    return [
        Problem(
            "ChildNameConflict",
            f"names taken by the children of pipeline {other}, created earlier in this namespace: {', '.join(names)} "
            f"(children are named <pipeline>-<variant>, and {pipeline}'s names meet {other}'s): rename a variant "
            f"or the pipeline; nothing of {pipeline} is applied meanwhile",
        )
        for other, names in sorted(taken.items())
    ]
