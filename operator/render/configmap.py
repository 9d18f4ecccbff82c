"""Per variant: the rendered runtime config (pipeline.json) and the programs the pod mounts."""

from __future__ import annotations

import json
from typing import Any

from evolved_operator.api import EvolvedPipelineSpec, Variant
from evolved_operator.render.meta import Owner, metadata
from evolved_runtime.config import LLMConfig, PipelineConfig, SolverConfig

CONFIG_KEY = "pipeline.json"
PROGRAMS_DIR = "/etc/evolved/programs"
LLM_KEY_ENV = "EVOLVED_LLM_API_KEY"


def runtime_config(owner: Owner, spec: EvolvedPipelineSpec, variant: Variant, mounted: bool) -> PipelineConfig:
    """The pod contract (evolved_runtime.config) for one variant."""
    llm = None
    if spec.llm is not None:
        llm = LLMConfig(
            provider=spec.llm.provider,
            base_url=spec.llm.base_url,
            model=spec.llm.model,
            api_key_env=LLM_KEY_ENV if spec.llm.api_key_secret_ref else None,
            timeout_s=spec.llm.timeout_seconds,
        )
    return PipelineConfig(
        pipeline=owner.name,
        variant=variant.name,
        model_name=owner.name,
        programs_dir=PROGRAMS_DIR if mounted else None,
        program_paths={c: s.path for c, s in variant.programs.sources().items() if s.path},
        llm=llm,
        solver=SolverConfig(
            timeout_ms=spec.solver.timeout_ms, memory_mb=spec.solver.memory_mb, pool_size=spec.solver.pool_size
        ),
    )


def render_configmap(
    owner: Owner, spec: EvolvedPipelineSpec, variant: Variant, programs: dict[str, str]
) -> dict[str, Any]:
    """``programs`` maps a component to its source (inline or from a ConfigMap), already resolved."""
    config = runtime_config(owner, spec, variant, mounted=bool(programs))
    data = {CONFIG_KEY: json.dumps(config.public(), indent=2, sort_keys=True)}
    data.update({f"{component}.py": source for component, source in sorted(programs.items())})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(owner, variant.name, "config"),
        "data": data,
    }
