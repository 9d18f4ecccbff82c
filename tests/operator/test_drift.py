"""Drift decisions (operator/drift.py): a child whose fields the operator applied were taken by
another manager is applied again; defaults, fields the operator does not set and status are not
drift, and events older than the re-apply do not count as a second drift."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.apply_plan import plan
from evolved_operator.cache import summarize
from evolved_operator.constants import FIELD_MANAGER
from evolved_operator.drift import Baseline, Revert, judge, other_writers, owned_fields_hash

OURS = {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"runtime"}': {"f:image": {}}}}}}}
SHRUNK = {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"runtime"}': {}}}}}}


def entry(manager: str, fields: dict[str, Any], operation: str = "Apply", subresource: str = "") -> dict[str, Any]:
    out = {"manager": manager, "operation": operation, "fieldsV1": fields}
    if subresource:
        out["subresource"] = subresource
    return out


def meta(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"managedFields": list(entries)}


def test_the_hash_is_of_the_operators_own_apply_entry_only() -> None:
    mine = owned_fields_hash(meta(entry(FIELD_MANAGER, OURS)))
    assert mine is not None
    assert owned_fields_hash(meta(entry(FIELD_MANAGER, OURS), entry("kubectl-set", SHRUNK, "Update"))) == mine
    assert owned_fields_hash(meta(entry(FIELD_MANAGER, SHRUNK))) != mine
    assert owned_fields_hash(meta(entry(FIELD_MANAGER, OURS, "Update"))) is None  # not a server-side apply
    assert owned_fields_hash(meta(entry(FIELD_MANAGER, OURS, subresource="status"))) is None
    assert owned_fields_hash({}) is None


def test_other_writers_leave_out_status_and_scale_writes() -> None:
    found = meta(
        entry(FIELD_MANAGER, OURS),
        entry("kube-controller-manager", {}, "Update", "status"),
        entry("kube-controller-manager", {}, "Update", "scale"),
        entry("kubectl-set", SHRUNK, "Update"),
        entry("kubectl-edit", SHRUNK, "Update"),
    )
    assert other_writers(found) == ("kubectl-edit", "kubectl-set")


B = Baseline("h1", "owned")
R = Revert("owned", frozenset({"kubectl-set"}))
SET = ("kubectl-set",)


@pytest.mark.parametrize(
    ("baseline", "applied", "owned", "writers", "reverting", "expected"),
    [
        (None, "h1", "owned", (), None, (B, False, None)),  # first sight: the baseline
        (B, "h1", "owned", (), None, (B, False, None)),  # undisturbed
        (B, "h1", "owned", ("kubectl-rollout",), None, (B, False, None)),  # others wrote fields not ours
        (B, "h1", "shrunk", SET, None, (B, True, R)),  # someone took fields: drift
        (B, "h2", "other", SET, None, (Baseline("h2", "other"), False, None)),  # the operator applied a new version
        (B, "h1", "shrunk", SET, R, (B, False, R)),  # an event older than the re-apply: passed over
        (B, "h1", "owned", (), R, (B, False, None)),  # the re-apply seen: ownership restored
        (B, "h1", "reshaped", (), R, (Baseline("h1", "reshaped"), False, None)),  # restored, writers gone
        (B, "h2", "other", SET, R, (Baseline("h2", "other"), False, None)),  # a new version ends the revert
        (B, None, "owned", (), None, (B, False, None)),  # not stamped by this operator
        (B, "h1", None, (), None, (B, False, None)),  # no apply entry (created by an older operator)
        (None, None, None, (), None, (None, False, None)),
    ],
)
def test_judge(
    baseline: Baseline | None, applied: str | None, owned: str | None, writers: tuple[str, ...],
    reverting: Revert | None, expected: tuple[Baseline | None, bool, Revert | None],
) -> None:  # fmt: skip
    assert judge(baseline, applied, owned, writers, reverting) == expected


def test_a_drifted_child_is_applied_again_although_its_hash_matches() -> None:
    desired = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "n"}, "data": {}}]
    first = plan(desired, {})
    (applied,) = first.to_apply
    child = summarize(applied)
    assert plan(desired, {("ConfigMap", "cm"): child}).to_apply == []
    assert plan(desired, {("ConfigMap", "cm"): child}, force=frozenset({("ConfigMap", "cm")})).to_apply == [applied]
