"""`evolved-runtime check` catches every kind of bad program, naming the component and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolved_runtime.programs import check_programs, load_programs
from evolved_runtime.programs.loader import ProgramLoadError

CASES = [
    ("a syntax error", "router", "def route(prompt, context)\n    pass\n", "syntax error at line 1"),
    ("a missing function", "profiles", "def get_profile(name):\n    return None\n", "missing function list_profiles()"),
    ("a wrong return type", "router", "def route(prompt, context):\n    return 'tier 1'\n", "route() returned str"),
    (
        "a program that raises",
        "translation",
        "def translate(prompt, level, hints, llm):\n    raise ValueError('boom')\n",
        "raised ValueError: boom",
    ),
    ("a program that raises at import", "router", "raise RuntimeError('no config')\n", "import raised RuntimeError"),
    ("a program that hangs at import", "router", "while True:\n    pass\n", "did not finish within"),
    (
        "a program that allocates without bound",
        "translation",
        "x = []\nwhile True:\n    x.append(bytearray(10**7))\n",
        "memory",
    ),
]


@pytest.mark.parametrize(("case", "component", "source", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_program_is_reported_with_its_component(
    tmp_path: Path, case: str, component: str, source: str, fragment: str
) -> None:
    (tmp_path / f"{component}.py").write_text(source)
    problems = check_programs(tmp_path, timeout_s=5, memory_mb=512)
    assert [p.component for p in problems] == [component]
    assert fragment in problems[0].problem


def test_the_default_programs_pass_the_check() -> None:
    assert check_programs(None) == []


def test_a_program_file_overrides_the_default_and_the_others_stay_default(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(
        "from evolved_runtime.programs.protocols import RoutingDecision\n\n"
        "def route(prompt, context):\n    return {'tier': 2, 'profile_name': 'mine'}\n"
    )
    programs = load_programs(tmp_path)
    assert programs.route("anything", {}) == {"tier": 2, "profile_name": "mine"}
    assert programs.paths["router"] == tmp_path / "router.py"
    assert "defaults" in str(programs.paths["translation"])
    assert len(programs.hashes["router"]) == 64


def test_an_explicit_path_wins_over_the_directory(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text("def route(p, c):\n    return {'tier': 0}\n")
    baked = tmp_path / "baked_router.py"
    baked.write_text("def route(p, c):\n    return {'tier': 1}\n")
    programs = load_programs(tmp_path, {"router": str(baked)})
    assert programs.route("x", {}) == {"tier": 1}


def test_loading_a_missing_function_in_process_raises_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text("x = 1\n")
    with pytest.raises(ProgramLoadError, match="router: missing function route"):
        load_programs(tmp_path)
