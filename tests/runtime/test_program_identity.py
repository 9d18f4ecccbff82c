"""The worker's program hash is the operator's: the same programs give the same value on both sides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.render import PipelineInput, program_hashes
from evolved_runtime.programs.loader import load_programs

ROUTER = "from evolved_runtime.programs.defaults.router import route  # evolved, generation 7\n"
PROFILES = "from evolved_runtime.programs.defaults.profiles import get_profile, list_profiles  # gen 3\n"
DEFAULT_TRANSLATION = str(Path(__file__).parents[2] / "runtime" / "programs" / "defaults" / "translation.py")

CASES: dict[str, dict[str, Any]] = {
    "defaults only": {},
    "one inline program": {"router": {"inline": ROUTER}},
    "two mounted programs": {"router": {"inline": ROUTER}, "profiles": {"inline": PROFILES}},
    "a mounted program and one from the image": {
        "router": {"inline": ROUTER},
        "translation": {"path": DEFAULT_TRANSLATION},
    },
}


@pytest.mark.parametrize("programs", list(CASES.values()), ids=list(CASES))
def test_the_worker_computes_the_operators_program_hash(programs: dict[str, Any], tmp_path: Path) -> None:
    spec = EvolvedPipelineSpec.model_validate({"variants": [{"name": "stable", "programs": programs}]})
    pipeline = PipelineInput("qa", "ns", "u", 1, spec)
    operator_hash = program_hashes(pipeline)["stable"]
    # What a pod gets: mounted files for inline (and ConfigMap) programs, image paths as given.
    for component, source in pipeline.sources(spec.variants[0]).items():
        (tmp_path / f"{component}.py").write_text(source)
    paths = pipeline.paths(spec.variants[0])
    loaded = load_programs(tmp_path, paths)
    assert loaded.program_hash(paths) == operator_hash


def test_different_programs_give_different_hashes(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(ROUTER)
    one = load_programs(tmp_path).program_hash({})
    (tmp_path / "router.py").write_text(ROUTER.replace("7", "8"))
    assert load_programs(tmp_path).program_hash({}) != one
