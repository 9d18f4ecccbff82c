"""Pure glue between the rollout decision and the rest of the operator: what the decision is made
from (:func:`observe`) and what it changes in the rendered children (:func:`apply_decision`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from evolved_operator.api import Variant
from evolved_operator.render import PipelineInput, program_hashes
from evolved_operator.rollout.steps import Decision, Observed
from evolved_operator.status import DeploymentState, observe_variant
from evolved_operator.traffic.weights import declared_weights


def observe(
    pipeline: PipelineInput,
    deployments: Mapping[str, DeploymentState],
    template_hashes: Mapping[str, str],
    stable_from_candidate: bool,
) -> Observed | None:
    """The decision's input, or None when the spec has no single candidate (nothing to roll out).
    ``stable_from_candidate`` says whether the stable variant was last rendered with the
    candidate's programs (its template hash is then the promoted one)."""
    spec = pipeline.spec
    candidates = spec.candidates()
    if len(candidates) != 1:
        return None
    stable, candidate = spec.stable(), candidates[0]
    hashes = program_hashes(pipeline)
    running = deployments.get(stable.name)
    rendered = apply_decision(pipeline, stable_from_candidate, None) if stable_from_candidate else pipeline
    seen = observe_variant(rendered, _variant(rendered, stable.name), running, template_hashes.get(stable.name))
    return Observed(
        generation=pipeline.generation,
        stable=stable.name,
        candidate=candidate.name,
        stable_revision=hashes[stable.name],
        candidate_revision=hashes[candidate.name],
        stable_running=running.program_hash if running is not None and seen.rolled_out() else "",
        stable_replicas=running.ready if running is not None else 0,
        candidate_ready=deployments[candidate.name].ready if candidate.name in deployments else 0,
        declared=declared_weights(spec),
    )


def _variant(pipeline: PipelineInput, name: str) -> Variant:
    return next(v for v in pipeline.spec.variants if v.name == name)


def _candidate_scaled(variant: Variant, replicas: int) -> Variant:
    """At least ``replicas`` pods (exactly 0 to scale down a fixed-size candidate; an autoscaled one
    keeps its minimum: an HPA cannot go below one)."""
    if variant.autoscaling is None:
        wanted = 0 if replicas == 0 else max(variant.desired_replicas(), replicas)
        return variant.model_copy(update={"replicas": wanted})
    scaling = variant.autoscaling
    low = min(scaling.max_replicas, max(scaling.min_replicas, replicas))
    return variant.model_copy(update={"autoscaling": scaling.model_copy(update={"min_replicas": low})})


def apply_decision(
    pipeline: PipelineInput, stable_from_candidate: bool, candidate_replicas: int | None
) -> PipelineInput:
    """The pipeline as the builders must render it for a decision: the stable variant with the
    candidate's programs while promoting or promoted, the candidate with the capacity it needs."""
    spec = pipeline.spec
    candidates = spec.candidates()
    if len(candidates) != 1 or (not stable_from_candidate and candidate_replicas is None):
        return pipeline
    stable, candidate = spec.stable(), candidates[0]
    programs = dict(pipeline.programs)
    variants = []
    for variant in spec.variants:
        if variant.name == stable.name and stable_from_candidate:
            variant = variant.model_copy(update={"programs": candidate.programs})
            programs[stable.name] = dict(pipeline.programs.get(candidate.name, {}))
        if variant.name == candidate.name and candidate_replicas is not None:
            variant = _candidate_scaled(variant, candidate_replicas)
        variants.append(variant)
    return replace(pipeline, spec=spec.model_copy(update={"variants": variants}), programs=programs)


def render_inputs(decision: Decision | None) -> tuple[bool, int | None, tuple[tuple[str, int], ...]]:
    """What of a decision shows in rendered objects (a change means a new apply)."""
    if decision is None:
        return (False, None, ())
    return (decision.stable_from_candidate, decision.candidate_replicas, tuple(decision.weights.items()))
