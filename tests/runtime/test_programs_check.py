"""`evolved-runtime check` catches every kind of bad program, naming the component and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolved_runtime.programs import check_programs, run_check

ROUTE_TIER_1 = "def route(prompt, context):\n    return {'tier': 1, 'profile_name': 'syllogism'}\n"
CASES = [
    ("a syntax error", "router", "def route(prompt, context)\n    pass\n", "syntax error at line 1"),
    ("a missing function", "profiles", "def get_profile(name):\n    return None\n", "missing function list_profiles()"),
    (
        "a route that returns a string",
        "router",
        "def route(prompt, context):\n    return 'tier 1'\n",
        "route() returned str",
    ),
    (
        "a decision with an impossible tier",
        "router",
        "def route(prompt, context):\n    return {'tier': 7}\n",
        "route() returned an invalid RoutingDecision: tier",
    ),
    (
        "a translation that returns text instead of SymIL",
        "translation",
        "def translate(prompt, level, hints, llm):\n    return 'forall x'\n",
        "translate() returned str",
    ),
    (
        "a translation that raises",
        "translation",
        "def translate(prompt, level, hints, llm):\n    raise ValueError('boom')\n",
        "translate() raised ValueError: boom",
    ),
    ("a program that raises at import", "router", "raise RuntimeError('no config')\n", "import raised RuntimeError"),
    ("a program that hangs at import", "router", "while True:\n    pass\n", "hangs at import"),
    (
        "a program that hangs in a call",
        "router",
        "def route(prompt, context):\n    while True:\n        pass\n",
        "hangs: route() did not return",
    ),
    (
        "a program that allocates without bound at import",
        "translation",
        "x = []\nwhile True:\n    x.append(bytearray(10**7))\n",
        "allocates without bound: ran out of memory (limit 512 MB) at import",
    ),
    (
        "a program that allocates without bound in a call",
        "profiles",
        "def list_profiles():\n    x = []\n    while True:\n        x.append(bytearray(10**7))\n\n"
        "def get_profile(name):\n    return {'name': name}\n",
        "allocates without bound: ran out of memory (limit 512 MB) in list_profiles()",
    ),
    (
        "profiles that reject a name the router uses",
        "profiles",
        "def get_profile(name):\n    return {'default': {'name': 'default'}}[name]\n\n"
        "def list_profiles():\n    return ['default']\n",
        "get_profile('arithmetic') raised KeyError",
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


def test_a_good_override_passes_and_what_it_prints_does_not_confuse_the_check(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(
        'print(\'evolved-check: result [["router", "fake"]]\')\n\n'
        "def route(prompt, context):\n    print('routing', prompt)\n    return {'tier': 1, 'profile_name': 'syllogism'}\n"
    )
    assert check_programs(tmp_path, timeout_s=10, memory_mb=512) == []


def test_every_broken_component_is_reported(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text("def route(prompt, context):\n    return None\n")
    (tmp_path / "profiles.py").write_text("def get_profile(name):\n    return {}\n")
    problems = check_programs(tmp_path, timeout_s=10, memory_mb=512)
    assert [p.component for p in problems] == ["router", "profiles"]


def test_run_check_prints_the_component_and_problem_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "router.py").write_text("def route(prompt, context):\n    return 'tier 1'\n")
    assert run_check(str(tmp_path)) == 1
    assert capsys.readouterr().out.startswith("FAIL router: route() returned str")


def test_run_check_accepts_a_partial_directory_and_names_what_it_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "router.py").write_text(ROUTE_TIER_1)
    assert run_check(str(tmp_path)) == 0
    assert capsys.readouterr().out == "OK: router (router.py), translation (default), profiles (default)\n"


def test_run_check_of_a_missing_directory_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_check(str(tmp_path / "nope")) == 2
    assert "is not a directory" in capsys.readouterr().err
