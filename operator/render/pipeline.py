"""The input of every builder: a validated pipeline and the program sources resolved for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evolved_operator.api import EvolvedPipeline, EvolvedPipelineSpec, Variant


class UnresolvedProgram(LookupError):
    """A ConfigMap program has no resolved source: the reconciler must stall before rendering."""


@dataclass(frozen=True)
class PipelineInput:
    """One EvolvedPipeline as the builders see it.

    ``programs`` maps variant -> component -> source for programs given by ``configMapKeyRef``
    (read by the reconciler); inline programs are taken from the spec, ``path`` programs stay in
    the image.
    """

    name: str
    namespace: str
    uid: str
    generation: int
    spec: EvolvedPipelineSpec
    programs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_resource(
        cls, resource: EvolvedPipeline, programs: Mapping[str, Mapping[str, str]] | None = None
    ) -> PipelineInput:
        meta = resource.metadata
        return cls(meta.name, meta.namespace, meta.uid, meta.generation, resource.spec, programs or {})

    @classmethod
    def from_object(
        cls, obj: Mapping[str, Any], programs: Mapping[str, Mapping[str, str]] | None = None
    ) -> PipelineInput:
        """From the object as read from the API (raises pydantic.ValidationError on a bad spec)."""
        return cls.from_resource(EvolvedPipeline.model_validate(obj), programs)

    def sources(self, variant: Variant) -> dict[str, str]:
        """Component -> Python source of the variant's mounted programs (inline and ConfigMap ones)."""
        resolved = self.programs.get(variant.name, {})
        out: dict[str, str] = {}
        for component, source in variant.programs.sources().items():
            if source.inline is not None:
                out[component] = source.inline
            elif source.config_map_key_ref is not None:
                if component not in resolved:
                    ref = source.config_map_key_ref
                    raise UnresolvedProgram(
                        f"variant {variant.name}: the {component} program from ConfigMap {ref.name}/{ref.key} "
                        "was not resolved"
                    )
                out[component] = resolved[component]
        return out

    def paths(self, variant: Variant) -> dict[str, str]:
        """Component -> path inside the image, for programs given by ``path``."""
        return {c: s.path for c, s in variant.programs.sources().items() if s.path is not None}
