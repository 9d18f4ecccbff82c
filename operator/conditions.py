"""Pure: observed state -> the Ready / Reconciling / Stalled conditions (kstatus).

Each condition is decided by a chain of small policies (the cert-manager style): a policy looks
at the observation and returns ``(status, reason, message)``, or None to let the next one decide;
the last policy of a chain always decides. kstatus (DESIGN.md section 9): ``Stalled`` when the
pipeline cannot progress without a change, ``Reconciling`` while work is under way, ``Ready``
when it serves as declared. ``lastTransitionTime`` moves only when a condition's status changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evolved_operator.problems import Problem

Verdict = tuple[str, str, str]  # (status, reason, message)
TYPES = ("Ready", "Reconciling", "Stalled")
MAX_MESSAGE = 32768  # the CRD's bound on condition messages


@dataclass(frozen=True)
class VariantObservation:
    """One variant's Deployment as observed; ``desired_replicas`` is None when it does not exist."""

    name: str
    desired_replicas: int | None
    replicas: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0
    current: bool = False  # its controller has seen the spec the operator last applied
    deadline_exceeded: bool = False

    def rolled_out(self) -> bool:
        """Every desired pod runs the current template and is available; no old pod is left."""
        want = self.desired_replicas
        if want is None or not self.current:
            return False
        return self.updated == want and self.replicas == want and self.available == want


@dataclass(frozen=True)
class Observation:
    """What the conditions are computed from.

    ``problems`` are the reconciler's semantic findings (missing ConfigMap or key, sha256
    mismatch, missing Secret, failing program check); ``pending`` names children not applied
    yet; ``apply_error`` is the last failed write (retried, so not a stall); the traffic fields
    come from the traffic provider (router rolling out, a gateway not yet answering or refusing).
    """

    generation: int
    variants: Sequence[VariantObservation] = ()
    problems: Sequence[Problem] = ()
    pending: Sequence[str] = ()
    apply_error: str | None = None
    traffic_waiting: tuple[str, str] | None = None  # (reason, message): the entry point is not serving yet
    traffic_rejected: tuple[str, str] | None = None  # (reason, message): the gateway refused the route
    rollout_stalled: tuple[str, str] | None = None  # (reason, message): aborted, rolled back, past its deadline
    rollout_progressing: tuple[str, str] | None = None  # (reason, message): a rollout is walking its steps


Policy = Callable[[Observation], Verdict | None]


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


def stalled_by_gateway(o: Observation) -> Verdict | None:
    if o.traffic_rejected is None:
        return None
    return ("True", *o.traffic_rejected)


def stalled_by_rollout(o: Observation) -> Verdict | None:
    if o.rollout_stalled is None:
        return None
    return ("True", *o.rollout_stalled)


def not_stalled(o: Observation) -> Verdict | None:
    return ("False", "Progressing", "no problem blocks progress")


# -- Reconciling --------------------------------------------------------------------------------


def reconciling_after_error(o: Observation) -> Verdict | None:
    if o.apply_error is None:
        return None
    return ("True", "ApplyFailed", f"retrying: {o.apply_error}")


def reconciling_children(o: Observation) -> Verdict | None:
    if not o.pending:
        return None
    return ("True", "ApplyingChildren", f"creating or updating {', '.join(o.pending)}")


def reconciling_rollout(o: Observation) -> Verdict | None:
    pending = [v for v in o.variants if not v.rolled_out()]
    if not pending:
        return None
    detail = ", ".join(
        f"{v.name} (no Deployment yet)"
        if v.desired_replicas is None
        else f"{v.name} {v.updated}/{v.desired_replicas} updated, {v.available} available"
        + ("" if v.current else ", new spec not yet observed")
        for v in pending
    )
    return ("True", "RollingOut", f"waiting for variants: {detail}")


def reconciling_traffic(o: Observation) -> Verdict | None:
    if o.traffic_waiting is None:
        return None
    return ("True", *o.traffic_waiting)


def reconciling_rollout_steps(o: Observation) -> Verdict | None:
    if o.rollout_progressing is None:
        return None
    return ("True", *o.rollout_progressing)


def reconciled(o: Observation) -> Verdict | None:
    return ("False", "Reconciled", "every variant runs its declared programs")


# -- Ready (decided from the other two) -------------------------------------------------------


def chain(policies: Sequence[Policy], o: Observation) -> Verdict:
    for policy in policies:
        verdict = policy(o)
        if verdict is not None:
            return verdict
    raise ValueError("a policy chain must end with a policy that always decides")


STALLED: tuple[Policy, ...] = (
    stalled_by_problems,
    stalled_by_deadline,
    stalled_by_gateway,
    stalled_by_rollout,
    not_stalled,
)
RECONCILING: tuple[Policy, ...] = (
    reconciling_after_error,
    reconciling_children,
    reconciling_rollout,
    reconciling_traffic,
    reconciling_rollout_steps,
    reconciled,
)


def evaluate(o: Observation) -> dict[str, Verdict]:
    """Condition type -> verdict. When stalled, Reconciling is False: no progress is being made."""
    stalled = chain(STALLED, o)
    if stalled[0] == "True":
        return {
            "Ready": ("False", stalled[1], stalled[2]),
            "Reconciling": ("False", stalled[1], "blocked: " + stalled[2]),
            "Stalled": stalled,
        }
    reconciling = chain(RECONCILING, o)
    if reconciling[0] == "True":
        ready: Verdict = ("False", reconciling[1], reconciling[2])
    else:
        total = sum(v.ready for v in o.variants)
        ready = ("True", "AllVariantsAvailable", f"{len(o.variants)} variant(s), {total} ready replica(s)")
    return {"Ready": ready, "Reconciling": reconciling, "Stalled": stalled}


def merge(
    previous: Sequence[Mapping[str, Any]], verdicts: Mapping[str, Verdict], generation: int, now: str
) -> list[dict[str, Any]]:
    """metav1.Conditions in a fixed order; ``lastTransitionTime`` moves only when a status changes."""
    before = {c.get("type"): c for c in previous}
    out = []
    for kind in TYPES:
        status, reason, message = verdicts[kind]
        old = before.get(kind, {})
        kept = old.get("lastTransitionTime") if old.get("status") == status else None
        out.append(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message[:MAX_MESSAGE],
                "observedGeneration": generation,
                "lastTransitionTime": kept or now,
            }
        )
    return out


def compute_conditions(o: Observation, previous: Sequence[Mapping[str, Any]], now: str) -> list[dict[str, Any]]:
    """The three conditions for ``o``, keeping the transition times of ``previous`` where due."""
    return merge(previous, evaluate(o), o.generation, now)
