"""Loading a program set: overrides per component, the defaults for the rest, hashes, readiness."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from evolved_runtime.config import PipelineConfig
from evolved_runtime.programs import ProgramLoadError, load_programs, prepare
from evolved_runtime.programs.loader import DEFAULTS_DIR

ROUTER = "def route(prompt, context):\n    return {'tier': 2, 'profile_name': 'mine'}\n"


def test_a_program_file_overrides_the_default_and_the_others_stay_default(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(ROUTER)
    programs = load_programs(tmp_path)
    assert programs.route("anything", {}) == {"tier": 2, "profile_name": "mine"}
    assert programs.paths["router"] == tmp_path / "router.py"
    assert programs.paths["translation"] == DEFAULTS_DIR / "translation.py"
    assert not programs.is_default("router")
    assert programs.is_default("translation")


def test_each_hash_is_the_sha256_of_the_component_source(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(ROUTER)
    programs = load_programs(tmp_path)
    assert programs.hashes["router"] == hashlib.sha256(ROUTER.encode()).hexdigest()
    default = (DEFAULTS_DIR / "profiles.py").read_bytes()
    assert programs.hashes["profiles"] == hashlib.sha256(default).hexdigest()


def test_no_directory_means_every_default() -> None:
    programs = load_programs(None)
    assert all(programs.is_default(c) for c in ("router", "translation", "profiles"))


def test_an_explicit_path_wins_over_the_directory(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text("def route(p, c):\n    return {'tier': 0}\n")
    baked = tmp_path / "baked_router.py"
    baked.write_text("def route(p, c):\n    return {'tier': 1}\n")
    programs = load_programs(tmp_path, {"router": str(baked)})
    assert programs.route("x", {}) == {"tier": 1}


def test_a_program_may_use_dataclasses_with_postponed_annotations(tmp_path: Path) -> None:
    (tmp_path / "profiles.py").write_text(
        "from __future__ import annotations\nfrom dataclasses import dataclass\n\n"
        "@dataclass\nclass Entry:\n    name: str\n    level: int = 1\n\n"
        "def get_profile(name):\n    return {'name': Entry(name).name}\n\n"
        "def list_profiles():\n    return ['default']\n"
    )
    assert load_programs(tmp_path).get_profile("x") == {"name": "x"}


def test_a_missing_function_is_a_load_error_naming_the_component(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text("x = 1\n")
    with pytest.raises(ProgramLoadError, match="router: missing function route"):
        load_programs(tmp_path)


def test_an_unreadable_explicit_path_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ProgramLoadError, match="translation: cannot read"):
        load_programs(None, {"translation": str(tmp_path / "missing.py")})


async def test_readiness_is_ready_with_the_loaded_programs_for_good_ones(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(ROUTER)
    status = await prepare(PipelineConfig(programs_dir=str(tmp_path)))
    assert status.ready
    assert status.programs is not None
    assert status.programs.paths["router"] == tmp_path / "router.py"


async def test_readiness_is_not_ready_with_a_reason_naming_the_component(tmp_path: Path) -> None:
    (tmp_path / "translation.py").write_text("def translate(prompt, level, hints, llm):\n    return 42\n")
    status = await prepare(PipelineConfig(programs_dir=str(tmp_path)))
    assert not status.ready
    assert status.programs is None
    assert status.reason.startswith("programs failed the check: translation: translate() returned int")
