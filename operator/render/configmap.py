"""Per variant: the runtime config (``pipeline.json``) and the programs the pods mount."""

from __future__ import annotations

import json
from typing import Any

from evolved_operator.api import Variant
from evolved_operator.render.labels import metadata
from evolved_operator.render.pipeline import PipelineInput
from evolved_runtime.config import LLMConfig, PipelineConfig, SolverConfig

CONFIG_KEY = "pipeline.json"
CONFIG_DIR = "/etc/evolved"
PROGRAMS_DIR = f"{CONFIG_DIR}/programs"
LLM_KEY_ENV = "EVOLVED_LLM_API_KEY"


def program_key(component: str) -> str:
    return f"{component}.py"


def runtime_config(pipeline: PipelineInput, variant: Variant) -> PipelineConfig:
    """The pod contract (evolved_runtime.config) of one variant. Secrets appear only as the name
    of the environment variable that carries them."""
    spec = pipeline.spec
    llm = None
    if spec.llm is not None:
        llm = LLMConfig(
            provider=spec.llm.provider,
            base_url=spec.llm.base_url,
            model=spec.llm.model,
            api_key_env=LLM_KEY_ENV if spec.llm.api_key_secret_ref is not None else None,
            timeout_s=spec.llm.timeout_seconds,
        )
    return PipelineConfig(
        pipeline=pipeline.name,
        variant=variant.name,
        model_name=pipeline.name,
        programs_dir=PROGRAMS_DIR if pipeline.sources(variant) else None,
        program_paths=pipeline.paths(variant),
        llm=llm,
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
