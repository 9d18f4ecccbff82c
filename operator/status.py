"""Pure: observed children -> the pipeline's status, and whether it must be written.

The status is written only when it differs from what the object holds (lastTransitionTime
moves only with a condition's status), so resyncs write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from evolved_operator import conditions
from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.cache import Child, ChildKey
from evolved_operator.constants import ANNOTATION_PROGRAM_HASH
from evolved_operator.problems import Problem
from evolved_operator.render.meta import Owner, child_name

Event = tuple[str, str, str]  # (type, reason, message)


@dataclass(frozen=True)
class StatusUpdate:
    patch: dict[str, Any] | None
    events: list[Event] = field(default_factory=list)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(status: dict[str, Any], key: str) -> int:
    value = status.get(key)
    return int(value) if isinstance(value, int) else 0


def observe_variant(name: str, deployment: Child | None, applied_hash: str | None) -> conditions.VariantObservation:
    if deployment is None:
        return conditions.VariantObservation(name=name, desired_replicas=None)
    s = deployment.status
    deadline = any(
        c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
        for c in s.get("conditions", [])
    )
    return conditions.VariantObservation(
        name=name,
        desired_replicas=deployment.spec_replicas if deployment.spec_replicas is not None else 1,
        replicas=_int(s, "replicas"),
        ready=_int(s, "readyReplicas"),
        updated=_int(s, "updatedReplicas"),
        available=_int(s, "availableReplicas"),
        current=(applied_hash is None or deployment.applied_hash == applied_hash)
        and _int(s, "observedGeneration") >= deployment.generation,
        deadline_exceeded=deadline,
    )


def compute_status(
    owner: Owner,
    spec: EvolvedPipelineSpec | None,
    generation: int,
    children: dict[ChildKey, Child],
    desired_hashes: dict[ChildKey, str],
    problems: list[Problem],
    previous: dict[str, Any],
    timestamp: str,
    apply_error: str | None = None,
) -> dict[str, Any]:
    variants_status: list[dict[str, Any]] = []
    observations: list[conditions.VariantObservation] = []
    for variant in spec.variants if spec is not None else []:
        key = ("Deployment", child_name(owner, variant.name))
        deployment = children.get(key)
        observation = observe_variant(variant.name, deployment, desired_hashes.get(key))
        observations.append(observation)
        template = deployment.annotations if deployment is not None else {}
        variants_status.append(
            {
                "name": variant.name,
                "role": variant.role,
                "replicas": observation.replicas,
                "readyReplicas": observation.ready,
                "updatedReplicas": observation.updated,
                "programHash": template.get(ANNOTATION_PROGRAM_HASH, ""),
                "image": spec.image.reference() if spec is not None else "",
            }
        )
    children_current = all(
        (child := children.get(key)) is not None and child.applied_hash == wanted
        for key, wanted in desired_hashes.items()
    )
    overall = conditions.Observation(
        generation=generation,
        problems=problems,
        variants=observations,
        children_current=children_current or bool(problems),
        apply_error=apply_error,
    )
    verdicts = conditions.compute(overall)
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": conditions.merge(previous.get("conditions", []), verdicts, generation, timestamp),
        "variants": variants_status,
    }
    if spec is not None:
        status["stable"] = spec.stable().name
        status["candidate"] = ",".join(v.name for v in spec.candidates()) or None
    return status


def first_visit(previous: dict[str, Any], generation: int, timestamp: str) -> dict[str, Any]:
    """Conditions written before any work on a new generation: Reconciling=True, the rest Unknown
    unless known, so kstatus never reads an unhandled generation as Current."""
    known = {c.get("type"): c for c in previous.get("conditions", [])}
    verdicts: dict[str, conditions.Verdict] = {
        "Reconciling": ("True", "Reconciling", f"handling generation {generation}"),
        "Ready": (
            (str(known["Ready"]["status"]), str(known["Ready"]["reason"]), str(known["Ready"].get("message", "")))
            if "Ready" in known
            else ("Unknown", "Reconciling", "not handled yet")
        ),
        "Stalled": ("Unknown", "Reconciling", "not handled yet")
        if "Stalled" not in known
        else (
            str(known["Stalled"]["status"]),
            str(known["Stalled"]["reason"]),
            str(known["Stalled"].get("message", "")),
        ),
    }
    return {"conditions": conditions.merge(previous.get("conditions", []), verdicts, generation, timestamp)}


def transition_events(previous: dict[str, Any], status: dict[str, Any]) -> list[Event]:
    def cond(s: dict[str, Any], kind: str) -> dict[str, Any]:
        return next((c for c in s.get("conditions", []) if c.get("type") == kind), {})

    events: list[Event] = []
    old_stalled, new_stalled = cond(previous, "Stalled"), cond(status, "Stalled")
    if new_stalled.get("status") == "True" and (
        old_stalled.get("status") != "True" or old_stalled.get("reason") != new_stalled.get("reason")
    ):
        events.append(("Warning", new_stalled["reason"], new_stalled["message"]))
    if old_stalled.get("status") == "True" and new_stalled.get("status") != "True":
        events.append(("Normal", "Recovered", "the problem that stalled the pipeline is gone"))
    old_ready, new_ready = cond(previous, "Ready"), cond(status, "Ready")
    if new_ready.get("status") == "True" and old_ready.get("status") != "True":
        events.append(("Normal", "Ready", new_ready["message"]))
    if old_ready.get("status") == "True" and new_ready.get("status") == "False" and new_stalled.get("status") != "True":
        events.append(("Normal", "NotReady", new_ready["message"]))
    return events


def update(previous: dict[str, Any], status: dict[str, Any]) -> StatusUpdate:
    """The patch to write (None when nothing changed) and the events the change deserves."""
    comparable = {k: v for k, v in previous.items() if k in status}
    if comparable == status and set(previous) >= set(status):
        return StatusUpdate(patch=None)
    return StatusUpdate(patch=status, events=transition_events(previous, status))
