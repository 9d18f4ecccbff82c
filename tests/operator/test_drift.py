"""Drift decisions (operator/drift.py): a child whose fields the operator applied were taken by
another manager is applied again; defaults, fields the operator does not set and status are not
drift, and a re-apply starts a new baseline instead of a loop."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.apply_plan import plan
from evolved_operator.cache import summarize
from evolved_operator.constants import FIELD_MANAGER
from evolved_operator.drift import Baseline, judge, other_writers, owned_fields_hash

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


@pytest.mark.parametrize(
    ("baseline", "applied", "owned", "rebaseline", "expected", "drifted"),
    [
        (None, "h1", "owned", False, B, False),  # first sight: the baseline
        (B, "h1", "owned", False, B, False),  # undisturbed
        (B, "h1", "shrunk", False, B, True),  # someone took fields: drift
        (B, "h2", "other", False, Baseline("h2", "other"), False),  # the operator applied a new version
        (B, "h1", "shrunk", True, Baseline("h1", "shrunk"), False),  # the event after a re-apply
        (B, None, "owned", False, B, False),  # not stamped by this operator
        (B, "h1", None, False, B, False),  # no apply entry (created by an older operator)
        (None, None, None, False, None, False),
    ],
)
def test_judge(
    baseline: Baseline | None, applied: str | None, owned: str | None, rebaseline: bool,
    expected: Baseline | None, drifted: bool,
) -> None:  # fmt: skip
    assert judge(baseline, applied, owned, rebaseline) == (expected, drifted)


def test_a_drifted_child_is_applied_again_although_its_hash_matches() -> None:
    desired = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "n"}, "data": {}}]
    first = plan(desired, {})
    (applied,) = first.to_apply
    child = summarize(applied)
    assert plan(desired, {("ConfigMap", "cm"): child}).to_apply == []
    assert plan(desired, {("ConfigMap", "cm"): child}, force=frozenset({("ConfigMap", "cm")})).to_apply == [applied]
