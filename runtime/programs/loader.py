"""Load a program set: each component from its own file, else the default shipped in the package."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from evolved_runtime.programs.protocols import COMPONENTS

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
REQUIRED = {"router": ("route",), "translation": ("translate",), "profiles": ("get_profile", "list_profiles")}
_counter = itertools.count()


class ProgramLoadError(Exception):
    """A component could not be loaded; the message names the component and the problem."""

    def __init__(self, component: str, problem: str) -> None:
        super().__init__(f"{component}: {problem}")
        self.component = component
        self.problem = problem


def resolve_paths(programs_dir: str | Path | None, program_paths: dict[str, str] | None = None) -> dict[str, Path]:
    """Component -> the file it is loaded from (explicit path, then the directory, then the default)."""
    paths = program_paths or {}
    out: dict[str, Path] = {}
    for component in COMPONENTS:
        if component in paths:
            out[component] = Path(paths[component])
        elif programs_dir is not None and (Path(programs_dir) / f"{component}.py").is_file():
            out[component] = Path(programs_dir) / f"{component}.py"
        else:
            out[component] = DEFAULTS_DIR / f"{component}.py"
    return out


def load_module(component: str, path: Path) -> ModuleType:
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise ProgramLoadError(component, f"cannot read {path}: {exc.strerror}") from exc
    spec = importlib.util.spec_from_file_location(f"evolved_program_{component}_{next(_counter)}", path)
    if spec is None or spec.loader is None:
        raise ProgramLoadError(component, f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise ProgramLoadError(component, f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    try:
        spec.loader.exec_module(module)
    except MemoryError as exc:
        raise ProgramLoadError(component, "ran out of memory while importing (allocates without bound?)") from exc
    except Exception as exc:
        raise ProgramLoadError(component, f"import raised {type(exc).__name__}: {exc}") from exc
    for name in REQUIRED[component]:
        if not callable(getattr(module, name, None)):
            raise ProgramLoadError(component, f"missing function {name}()")
    return module


@dataclass
class ProgramSet:
    """The loaded programs of one worker, with the sha256 of each component's source."""

    route: Callable[[str, dict[str, Any]], Any]
    translate: Callable[..., Any]
    get_profile: Callable[[str], Any]
    list_profiles: Callable[[], list[str]]
    paths: dict[str, Path] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)

    def is_default(self, component: str) -> bool:
        """The package's own program (trusted, fast): the pipeline may call it on the event loop."""
        path = self.paths.get(component)
        return path is not None and path.parent == DEFAULTS_DIR


def load_programs(programs_dir: str | Path | None = None, program_paths: dict[str, str] | None = None) -> ProgramSet:
    paths = resolve_paths(programs_dir, program_paths)
    modules = {component: load_module(component, path) for component, path in paths.items()}
    return ProgramSet(
        route=modules["router"].route,
        translate=modules["translation"].translate,
        get_profile=modules["profiles"].get_profile,
        list_profiles=modules["profiles"].list_profiles,
        paths=paths,
        hashes={c: hashlib.sha256(p.read_bytes()).hexdigest() for c, p in paths.items()},
    )
