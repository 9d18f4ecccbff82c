"""Pure: observed children -> the pipeline's status, whether to write it, and the events it deserves.

The reconciler summarizes each variant's Deployment with :func:`observe_deployment` (a small
record, cheap to keep in memory), then calls :func:`compute_status`; it writes the result only
when :func:`status_patch_needed` says so, so resyncs write nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from evolved_operator import conditions
from evolved_operator.api import Variant
from evolved_operator.constants import ANNOTATION_CONTENT_HASH, ANNOTATION_PROGRAM_HASH
from evolved_operator.problems import Problem
from evolved_operator.render.deployment import CONTAINER, render_deployment, template_hash
from evolved_operator.render.pipeline import PipelineInput, UnresolvedProgram

Event = tuple[str, str, str]  # (type, reason, message)


@dataclass(frozen=True)
class DeploymentState:
    """What status needs of one observed Deployment."""

    generation: int = 0
    observed_generation: int = 0
    spec_replicas: int | None = None
    replicas: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0
    image: str = ""
    program_hash: str = ""
    content_hash: str = ""
    deadline_exceeded: bool = False


def _int(mapping: Mapping[str, Any], key: str) -> int:
    value = mapping.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def observe_deployment(obj: Mapping[str, Any]) -> DeploymentState:
    """A Deployment as read from the API (or a watch event) -> :class:`DeploymentState`."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    template = spec.get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    containers = (template.get("spec") or {}).get("containers") or []
    image = next((str(c.get("image", "")) for c in containers if c.get("name") == CONTAINER), "")
    replicas = spec.get("replicas")
    return DeploymentState(
        generation=_int(obj.get("metadata") or {}, "generation"),
        observed_generation=_int(status, "observedGeneration"),
        spec_replicas=replicas if isinstance(replicas, int) else None,
        replicas=_int(status, "replicas"),
        ready=_int(status, "readyReplicas"),
        updated=_int(status, "updatedReplicas"),
        available=_int(status, "availableReplicas"),
        image=image,
        program_hash=str(annotations.get(ANNOTATION_PROGRAM_HASH, "")),
        content_hash=str(annotations.get(ANNOTATION_CONTENT_HASH, "")),
        deadline_exceeded=any(
            c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
            for c in status.get("conditions") or []
        ),
    )


def _desired_template_hash(pipeline: PipelineInput, variant: Variant) -> str | None:
    try:
        rendered = render_deployment(pipeline, variant)
    except UnresolvedProgram:
        return None  # the reconciler reports it as a problem; status cannot say what is desired
    return template_hash(rendered)


def observe_variant(
    pipeline: PipelineInput, variant: Variant, deployment: DeploymentState | None, desired_hash: str | None = None
) -> conditions.VariantObservation:
    """Whether the Deployment runs what the spec declares: its controller saw its last change, its
    pod template carries the desired content hash and (without an HPA) the declared replicas."""
    if deployment is None:
        return conditions.VariantObservation(name=variant.name, desired_replicas=None)
    if variant.autoscaling is not None:
        want = deployment.spec_replicas if deployment.spec_replicas is not None else variant.desired_replicas()
        replicas_declared = True
    else:
        want = variant.desired_replicas()
        replicas_declared = deployment.spec_replicas == want
    if desired_hash is None:
        desired_hash = _desired_template_hash(pipeline, variant)
    current = (
        deployment.observed_generation >= deployment.generation
        and replicas_declared
        and (desired_hash is None or deployment.content_hash == desired_hash)
    )
    return conditions.VariantObservation(
        name=variant.name,
        desired_replicas=want,
        replicas=deployment.replicas,
        ready=deployment.ready,
        updated=deployment.updated,
        available=deployment.available,
        current=current,
        deadline_exceeded=deployment.deadline_exceeded,
    )


def compute_status(
    pipeline: PipelineInput,
    deployments: Mapping[str, DeploymentState],
    problems: Sequence[Problem],
    previous: Mapping[str, Any],
    now: str,
    *,
    pending: Sequence[str] = (),
    apply_error: str | None = None,
    template_hashes: Mapping[str, str] | None = None,
    traffic: Mapping[str, Any] | None = None,
    traffic_waiting: tuple[str, str] | None = None,
    traffic_rejected: tuple[str, str] | None = None,
    rollout: Mapping[str, Any] | None = None,
    rollout_stalled: tuple[str, str] | None = None,
    rollout_progressing: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The full status. ``deployments`` maps variant name -> its observed Deployment (absent: not
    created yet); ``previous`` is the status the object holds (for transition times); ``pending``
    names children not applied yet; ``apply_error`` is the last failed write; ``template_hashes``
    (variant -> pod template content hash, from :meth:`Desired.template_hashes`) saves rendering
    each Deployment again; ``traffic`` is ``status.traffic`` and the two verdicts the traffic
    provider's (see ``evolved_operator.traffic``); ``rollout`` is ``status.rollout`` with the rollout's
    stall or progress (``evolved_operator.rollout``)."""
    variants: list[dict[str, Any]] = []
    observations = []
    for variant in pipeline.spec.variants:
        deployment = deployments.get(variant.name)
        known = (template_hashes or {}).get(variant.name)
        observations.append(observe_variant(pipeline, variant, deployment, known))
        seen = deployment or DeploymentState()
        variants.append(
            {
                "name": variant.name,
                "role": variant.role,
                "replicas": seen.replicas,
                "readyReplicas": seen.ready,
                "updatedReplicas": seen.updated,
                "programHash": seen.program_hash,
                "image": seen.image,
            }
        )
    observation = conditions.Observation(
        generation=pipeline.generation,
        variants=observations,
        problems=problems,
        pending=pending,
        apply_error=apply_error,
        traffic_waiting=traffic_waiting,
        traffic_rejected=traffic_rejected,
        rollout_stalled=rollout_stalled,
        rollout_progressing=rollout_progressing,
    )
    return {
        "observedGeneration": pipeline.generation,
        "conditions": conditions.compute_conditions(observation, previous.get("conditions") or [], now),
        "variants": variants,
        "stable": pipeline.spec.stable().name,
        "candidate": ",".join(v.name for v in pipeline.spec.candidates()) or None,
        "traffic": dict(traffic) if traffic is not None else None,
        "rollout": dict(rollout) if rollout else None,
    }


def invalid_spec_status(
    generation: int, problems: Sequence[Problem], previous: Mapping[str, Any], now: str
) -> dict[str, Any]:
    """The status of a pipeline whose spec the models reject (stored before the CRD had the rule):
    Stalled with the problems; the variant fields of ``previous`` are left as they are."""
    observation = conditions.Observation(generation=generation, problems=problems)
    return {
        "observedGeneration": generation,
        "conditions": conditions.compute_conditions(observation, previous.get("conditions") or [], now),
    }


def status_patch_needed(previous: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether writing ``new`` (a merge patch: None deletes a field) changes what the object holds."""
    for key, value in new.items():
        if value is None:
            if previous.get(key) is not None:
                return True
        elif previous.get(key) != value:
            return True
    return False


def status_mark(status: Mapping[str, Any]) -> str:
    """What identifies a status write: its observedGeneration and conditions (what kstatus, Argo CD
    and Flux read), nulls left out as the apiserver stores them."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return json.dumps(
        [status.get("observedGeneration"), plain(status.get("conditions") or [])], sort_keys=True, default=str
    )


def first_visit(previous: Mapping[str, Any], generation: int, now: str) -> dict[str, Any]:
    """Conditions to write before slow work on a new generation: Reconciling=True, the others kept
    or Unknown, so kstatus never reads an unhandled generation as current."""
    known = {c.get("type"): c for c in previous.get("conditions") or []}

    def kept(kind: str) -> conditions.Verdict:
        if kind in known:
            return (str(known[kind]["status"]), str(known[kind]["reason"]), str(known[kind].get("message", "")))
        return ("Unknown", "Reconciling", "not handled yet")

    verdicts = {
        "Ready": kept("Ready"),
        "Reconciling": ("True", "Reconciling", f"handling generation {generation}"),
        "Stalled": kept("Stalled"),
    }
    return {"conditions": conditions.merge(previous.get("conditions") or [], verdicts, generation, now)}


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), {})


def transition_events(previous: Mapping[str, Any], new: Mapping[str, Any]) -> list[Event]:
    """Events for condition changes: each stall (Warning, its own reason), recovery, Ready, NotReady;
    then the traffic events."""
    events: list[Event] = []
    old_stalled, new_stalled = _condition(previous, "Stalled"), _condition(new, "Stalled")
    if new_stalled.get("status") == "True" and (
        old_stalled.get("status") != "True" or old_stalled.get("reason") != new_stalled.get("reason")
    ):
        events.append(("Warning", str(new_stalled["reason"]), str(new_stalled["message"])))
    if old_stalled.get("status") == "True" and new_stalled.get("status") != "True":
        events.append(("Normal", "Recovered", "the problem that stalled the pipeline is gone"))
    old_ready, new_ready = _condition(previous, "Ready"), _condition(new, "Ready")
    if new_ready.get("status") == "True" and old_ready.get("status") != "True":
        events.append(("Normal", "Ready", str(new_ready["message"])))
    if old_ready.get("status") == "True" and new_ready.get("status") == "False" and new_stalled.get("status") != "True":
        events.append(("Normal", "NotReady", str(new_ready["message"])))
    return events + traffic_events(previous.get("traffic") or {}, new.get("traffic") or {})


def traffic_events(previous: Mapping[str, Any], new: Mapping[str, Any]) -> list[Event]:
    """WeightsChanged when the effective split moves; MirrorPaused / MirrorResumed."""
    events: list[Event] = []
    if previous.get("weights") and new.get("weights") and previous["weights"] != new["weights"]:
        events.append(("Normal", "WeightsChanged", f"traffic {previous['weights']} -> {new['weights']}"))
    old_mirror, new_mirror = previous.get("mirror") or {}, new.get("mirror") or {}
    if new_mirror.get("state") == "Paused" and old_mirror.get("state") != "Paused":
        events.append(("Warning", "MirrorPaused", str(new_mirror.get("message", ""))))
    if old_mirror.get("state") == "Paused" and new_mirror.get("state") == "Active":
        events.append(
            ("Normal", "MirrorResumed", f"variant {new_mirror.get('variant')} has a ready pod: mirroring again")
        )
    return events


def now() -> str:
    """The current time as metav1.Time (RFC 3339, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
