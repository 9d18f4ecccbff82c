"""Pure: observed state -> Ready / Reconciling / Stalled, as a chain of small policies.

Each policy looks at the observation and returns ``(status, reason, message)`` or None to let
the next policy decide (the cert-manager style). kstatus rules (DESIGN.md section 9): Stalled
when it cannot progress without a change, Reconciling while work is under way, Ready when it
serves as declared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evolved_operator.problems import Problem

Verdict = tuple[str, str, str]  # (status, reason, message)


@dataclass(frozen=True)
class VariantObservation:
    name: str
    desired_replicas: int | None  # None: the Deployment does not exist yet
    replicas: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0
    current: bool = False  # the Deployment carries the spec last applied and its controller has seen it
    deadline_exceeded: bool = False


@dataclass(frozen=True)
class Observation:
    generation: int
    problems: list[Problem] = field(default_factory=list)
    variants: list[VariantObservation] = field(default_factory=list)
    children_current: bool = True  # every desired child exists with the last applied content
    apply_error: str | None = None  # the last write failed (transient: retried with backoff)


Policy = Callable[[Observation], Verdict | None]


def rolled_out(v: VariantObservation) -> bool:
    if v.desired_replicas is None or not v.current:
        return False
    want = v.desired_replicas
    return v.updated >= want and v.replicas == v.updated and v.available >= want and v.ready >= want


# -- Stalled ------------------------------------------------------------------------------------


def stalled_by_problems(o: Observation) -> Verdict | None:
    if not o.problems:
        return None
    return ("True", o.problems[0].reason, "; ".join(p.message for p in o.problems))


def stalled_by_deadline(o: Observation) -> Verdict | None:
    late = [v.name for v in o.variants if v.deadline_exceeded]
    if not late:
        return None
    return (
        "True",
        "ProgressDeadlineExceeded",
        f"rollout of variant(s) {', '.join(late)} exceeded its progress deadline",
    )


def not_stalled(o: Observation) -> Verdict | None:
    return ("False", "Progressing", "no problem blocks progress")


# -- Reconciling --------------------------------------------------------------------------------


def reconciling_after_error(o: Observation) -> Verdict | None:
    if o.apply_error is None:
        return None
    return ("True", "ApplyFailed", f"retrying: {o.apply_error}")


def reconciling_children(o: Observation) -> Verdict | None:
    if o.children_current:
        return None
    return ("True", "ApplyingChildren", "creating or updating the pipeline's objects")


def reconciling_rollout(o: Observation) -> Verdict | None:
    pending = [v for v in o.variants if not rolled_out(v)]
    if not pending:
        return None
    detail = ", ".join(f"{v.name} {v.ready}/{v.desired_replicas or 0} ready, {v.updated} updated" for v in pending)
    return ("True", "RollingOut", f"waiting for variants: {detail}")


def reconciled(o: Observation) -> Verdict | None:
    return ("False", "Reconciled", "every variant runs its declared programs")


# -- Ready --------------------------------------------------------------------------------------


def chain(policies: list[Policy], o: Observation) -> Verdict:
    for policy in policies:
        verdict = policy(o)
        if verdict is not None:
            return verdict
    raise ValueError("a policy chain must end with a catch-all")


STALLED: list[Policy] = [stalled_by_problems, stalled_by_deadline, not_stalled]
RECONCILING: list[Policy] = [reconciling_after_error, reconciling_children, reconciling_rollout, reconciled]


def compute(o: Observation) -> dict[str, Verdict]:
    """Condition type -> verdict. When stalled, Reconciling is False (no progress is being made)."""
    stalled = chain(STALLED, o)
    if stalled[0] == "True":
        reconciling: Verdict = ("False", stalled[1], "blocked: " + stalled[2])
        ready: Verdict = ("False", stalled[1], stalled[2])
    else:
        reconciling = chain(RECONCILING, o)
        if reconciling[0] == "True":
            ready = ("False", reconciling[1], reconciling[2])
        else:
            total = sum(v.ready for v in o.variants)
            ready = ("True", "AllVariantsAvailable", f"{len(o.variants)} variant(s), {total} ready replica(s)")
    return {"Ready": ready, "Reconciling": reconciling, "Stalled": stalled}


def merge(
    previous: list[dict[str, Any]], verdicts: dict[str, Verdict], generation: int, now: str
) -> list[dict[str, Any]]:
    """metav1.Conditions: lastTransitionTime moves only when a condition's status changes."""
    before = {c.get("type"): c for c in previous}
    out = []
    for kind in ("Ready", "Reconciling", "Stalled"):
        status, reason, message = verdicts[kind]
        old = before.get(kind, {})
        changed = old.get("status") != status
        out.append(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "observedGeneration": generation,
                "lastTransitionTime": now
                if changed or not old.get("lastTransitionTime")
                else old["lastTransitionTime"],
            }
        )
    return out
