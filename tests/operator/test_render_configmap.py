"""The ConfigMap of a variant: the runtime config the pods read, and the programs they mount."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.render import PipelineInput, render_all
from evolved_runtime.config import PipelineConfig

Objects = dict[tuple[str, str], Any]
SECRET = {"name": "llm-credentials-4d1e", "key": "api-key-7f3a"}
LLM = {"baseURL": "https://llm.example/v1", "model": "small", "timeoutSeconds": 12, "apiKeySecretRef": SECRET}


def objects(doc: dict[str, Any], programs: dict[str, dict[str, str]] | None = None) -> Objects:
    p = PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), programs or {})
    return {(o["kind"], o["metadata"]["name"]): o for o in render_all(p)}


def data(objs: Objects, variant: str = "stable") -> dict[str, str]:
    return dict(objs[("ConfigMap", f"qa-{variant}")]["data"])


def config(objs: Objects, variant: str = "stable") -> PipelineConfig:
    return PipelineConfig.model_validate_json(data(objs, variant)["pipeline.json"])


TWO = {"variants": [{"name": "stable"}, {"name": "cand", "role": "candidate"}]}


@pytest.mark.parametrize("variant", ["stable", "cand"])
def test_the_configmap_holds_a_valid_runtime_config_named_for_its_variant(variant: str) -> None:
    cfg = config(objects(TWO | {"llm": LLM}), variant)
    assert (cfg.pipeline, cfg.variant, cfg.model_name) == ("qa", variant, "qa")
    assert cfg.llm is not None
    assert (cfg.llm.base_url, cfg.llm.model, cfg.llm.timeout_s) == ("https://llm.example/v1", "small", 12)


def test_the_llm_key_is_named_by_an_environment_variable_and_the_secret_never_appears_in_a_configmap() -> None:
    objs = objects(TWO | {"llm": LLM})
    assert config(objs).llm is not None
    assert config(objs).llm.api_key_env == "EVOLVED_LLM_API_KEY"  # type: ignore[union-attr]
    for (kind, _), obj in objs.items():
        if kind == "ConfigMap":
            text = json.dumps(obj)
            assert SECRET["name"] not in text, "the ConfigMap must not name the Secret"
            assert SECRET["key"] not in text, "the ConfigMap must not name the Secret's key"


def test_without_a_key_secret_the_runtime_reads_no_key_variable() -> None:
    objs = objects(TWO | {"llm": {"baseURL": "https://llm.example/v1", "model": "m"}})
    assert config(objs).llm is not None
    assert config(objs).llm.api_key_env is None  # type: ignore[union-attr]


def test_without_an_llm_the_runtime_config_has_none() -> None:
    assert config(objects(TWO)).llm is None


def test_solver_limits_reach_the_runtime_config() -> None:
    cfg = config(objects(TWO | {"solver": {"timeoutMs": 900, "memoryMB": 256, "poolSize": 3}}))
    assert (cfg.solver.timeout_ms, cfg.solver.memory_mb, cfg.solver.pool_size) == (900, 256, 3)


def test_inline_and_configmap_programs_are_keys_and_image_paths_are_passed_to_the_runtime() -> None:
    programs = {
        "router": {"inline": "def route(p, c): ..."},
        "translation": {"configMapKeyRef": {"name": "progs", "key": "t.py"}},
        "profiles": {"path": "/opt/p/profiles.py"},
    }
    objs = objects({"variants": [{"name": "stable", "programs": programs}]}, {"stable": {"translation": "T = 1"}})
    assert data(objs)["router.py"] == "def route(p, c): ..."
    assert data(objs)["translation.py"] == "T = 1"
    assert "profiles.py" not in data(objs)
    cfg = config(objs)
    assert cfg.programs_dir == "/etc/evolved/programs"
    assert cfg.program_paths == {"profiles": "/opt/p/profiles.py"}


def test_only_image_paths_leave_the_programs_directory_unset() -> None:
    objs = objects({"variants": [{"name": "stable", "programs": {"router": {"path": "/opt/r.py"}}}]})
    assert (config(objs).programs_dir, config(objs).program_paths) == (None, {"router": "/opt/r.py"})
    assert set(data(objs)) == {"pipeline.json"}


def test_without_programs_the_runtime_uses_its_defaults() -> None:
    cfg = config(objects(TWO))
    assert (cfg.programs_dir, cfg.program_paths) == (None, {})


def test_programs_stay_with_their_variant() -> None:
    doc = {
        "variants": [{"name": "stable", "programs": {"router": {"inline": "A"}}}, {"name": "cand", "role": "candidate"}]
    }
    objs = objects(doc)
    assert set(data(objs, "cand")) == {"pipeline.json"}
    assert config(objs, "cand").programs_dir is None
