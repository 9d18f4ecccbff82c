"""Per variant: the runtime config (``pipeline.json``) and the programs the pods mount."""

from __future__ import annotations

import json
from typing import Any

from evolved_operator.api import Variant
from evolved_operator.render.labels import metadata
from evolved_operator.render.llm_path import LLM_KEY_ENV, llm_config, llm_path_config
from evolved_operator.render.pipeline import PipelineInput
from evolved_runtime.config import PipelineConfig, SolverConfig

CONFIG_KEY = "pipeline.json"
CONFIG_DIR = "/etc/evolved"
PROGRAMS_DIR = f"{CONFIG_DIR}/programs"
__all__ = ["CONFIG_DIR", "CONFIG_KEY", "LLM_KEY_ENV", "config_json", "program_key", "render_configmap"]


def program_key(component: str) -> str:
    return f"{component}.py"


def runtime_config(pipeline: PipelineInput, variant: Variant) -> PipelineConfig:
    """The pod contract (evolved_runtime.config) of one variant. Secrets appear only as the name
    of the environment variable that carries them."""
    spec = pipeline.spec
    return PipelineConfig(
        pipeline=pipeline.name,
        variant=variant.name,
        model_name=pipeline.name,
        programs_dir=PROGRAMS_DIR if pipeline.sources(variant) else None,
        program_paths=pipeline.paths(variant),
        llm=llm_config(spec.llm),
        **llm_path_config(pipeline.name, spec),
        solver=SolverConfig(
            timeout_ms=spec.solver.timeout_ms, memory_mb=spec.solver.memory_mb, pool_size=spec.solver.pool_size
        ),
    )


def config_json(pipeline: PipelineInput, variant: Variant) -> str:
    return json.dumps(runtime_config(pipeline, variant).public(), indent=2, sort_keys=True)


def render_configmap(pipeline: PipelineInput, variant: Variant) -> dict[str, Any]:
    data = {CONFIG_KEY: config_json(pipeline, variant)}
    data.update({program_key(c): source for c, source in sorted(pipeline.sources(variant).items())})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(pipeline, variant, "config"),
        "data": data,
    }
