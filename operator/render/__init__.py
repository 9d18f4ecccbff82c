"""Pure builders: the pipeline spec and resolved inputs in, plain dicts ready for server-side apply out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.render.configmap import render_configmap
from evolved_operator.render.deployment import program_hash, render_deployment
from evolved_operator.render.hpa import render_hpa
from evolved_operator.render.meta import Owner
from evolved_operator.render.pdb import render_pdb
from evolved_operator.render.service import render_service


@dataclass(frozen=True)
class Rendered:
    objects: list[dict[str, Any]]
    program_hashes: dict[str, str]  # variant -> hash of its programs


def render_all(owner: Owner, spec: EvolvedPipelineSpec, programs: dict[str, dict[str, str]]) -> Rendered:
    """``programs`` maps variant -> component -> source for inline and ConfigMap programs."""
    objects: list[dict[str, Any]] = []
    hashes: dict[str, str] = {}
    for variant in spec.variants:
        configmap = render_configmap(owner, spec, variant, programs.get(variant.name, {}))
        objects.append(configmap)
        objects.append(render_deployment(owner, spec, variant, configmap))
        objects.append(render_service(owner, variant.name))
        hpa = render_hpa(owner, variant)
        if hpa is not None:
            objects.append(hpa)
        objects.append(render_pdb(owner, variant))
        hashes[variant.name] = program_hash(configmap, variant)
    objects.append(render_service(owner, None))
    return Rendered(objects=objects, program_hashes=hashes)


__all__ = ["Owner", "Rendered", "render_all"]
