"""Pure: the desired children of a pipeline from its spec and its resolved inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evolved_operator import traffic
from evolved_operator.apply_plan import content_hash, key_of
from evolved_operator.cache import ChildKey
from evolved_operator.constants import LABEL_VARIANT
from evolved_operator.inputs import Inputs
from evolved_operator.problems import Problem
from evolved_operator.render import PipelineInput, program_hashes, render_all
from evolved_operator.render.deployment import template_hash
from evolved_operator.rollout.plan import apply_decision
from evolved_operator.rollout.steps import Decision


@dataclass(frozen=True)
class Desired:
    pipeline: PipelineInput | None = None  # None when the inputs have problems
    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    program_hashes: dict[str, str] = field(default_factory=dict)

    def with_problems(self, problems: list[Problem]) -> Desired:
        """The same pipeline stalled by ``problems`` (nothing is applied), or ``self`` without any."""
        if not problems:
            return self
        return Desired(problems=[*self.problems, *problems])

    def hashes(self) -> dict[ChildKey, str]:
        return {key_of(obj): content_hash(obj) for obj in self.objects}

    def template_hashes(self) -> dict[str, str]:
        """Variant name -> the content hash in its Deployment's pod template (what status compares
        the observed Deployment with; kept so status does not render the Deployment again)."""
        return {
            str(obj["metadata"]["labels"][LABEL_VARIANT]): template_hash(obj)
            for obj in self.objects
            if obj["kind"] == "Deployment" and LABEL_VARIANT in obj["metadata"]["labels"]  # not the router
        }


def pipeline_input(body: dict[str, Any], inputs: Inputs) -> PipelineInput | None:
    """The builders' view of ``body`` with its resolved programs (None when the spec is invalid)."""
    if inputs.spec is None:
        return None
    meta = body["metadata"]
    return PipelineInput(
        name=str(meta["name"]),
        namespace=str(meta["namespace"]),
        uid=str(meta["uid"]),
        generation=int(meta.get("generation") or 0),
        spec=inputs.spec,
        programs=inputs.programs,
    )


def build_desired(
    body: dict[str, Any], inputs: Inputs, ready: Mapping[str, int] | None = None, decision: Decision | None = None
) -> Desired:
    """``ready`` (variant -> ready pods, from the cache) and the last rollout ``decision`` decide what
    depends on the observed state: a gateway's mirror filter exists only while the mirror variant has
    a ready pod; a rollout sets weights, the candidate's capacity and, when promoting, the stable
    variant's programs."""
    pipeline = pipeline_input(body, inputs)
    if inputs.problems or pipeline is None:
        return Desired(problems=list(inputs.problems))
    objects = render_children(pipeline, ready, decision)
    return Desired(pipeline=pipeline, objects=objects, program_hashes=program_hashes(pipeline))


def render_children(
    pipeline: PipelineInput, ready: Mapping[str, int] | None = None, decision: Decision | None = None
) -> list[dict[str, Any]]:
    """Every child: the variants' objects, then the traffic provider's."""
    ready = ready or {}
    provider = traffic.provider_for(pipeline)
    weights = traffic.effective_weights(pipeline, ready, decision)
    if decision is not None:
        pipeline = apply_decision(pipeline, decision.stable_from_candidate, decision.candidate_replicas)
    return render_all(pipeline) + provider.render(pipeline, weights, traffic.mirror_active(pipeline, ready))
