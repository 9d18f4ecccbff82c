"""One distribution, two import packages mapped from folders; `operator` stays the stdlib's."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"evolved_operator": "operator", "evolved_runtime": "runtime"}


def _declared_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def test_every_folder_with_an_init_is_declared_as_a_package() -> None:
    found = set()
    for name, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join((name, *relative.parts)))
    assert found == _declared_packages()


def test_import_operator_still_gives_the_standard_library_from_the_repository_root() -> None:
    code = "import operator, evolved_operator; print(operator.__file__); print(operator.add(2, 3))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    path, result = out.stdout.split()
    assert "site-packages" not in path
    assert not path.startswith(str(ROOT / "operator"))
    assert result == "5"


def test_the_console_scripts_are_installed() -> None:
    bindir = Path(sys.executable).parent
    for script in ("evolved-operator", "evolved-runtime", "kubectl-evolved"):
        assert (bindir / script).exists(), script
