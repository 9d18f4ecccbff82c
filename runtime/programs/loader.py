"""Load a program set: each component from its own file, else the default shipped in the package."""

from __future__ import annotations

import hashlib
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from evolved_runtime.programs.identity import program_hash
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
    """Component -> the file it is loaded from: an explicit path, else ``<dir>/<component>.py``
    if it exists, else the package's default."""
    paths = program_paths or {}
    out: dict[str, Path] = {}
    for component in COMPONENTS:
        candidate = Path(programs_dir) / f"{component}.py" if programs_dir is not None else None
        if component in paths:
            out[component] = Path(paths[component])
        elif candidate is not None and candidate.is_file():
            out[component] = candidate
        else:
            out[component] = DEFAULTS_DIR / f"{component}.py"
    return out


def is_default_path(path: Path) -> bool:
    return path.resolve().parent == DEFAULTS_DIR


def read_source(component: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProgramLoadError(component, f"cannot read {path}: {exc.strerror}") from exc


def load_module(component: str, path: Path, source: bytes | None = None) -> ModuleType:
    """Import one program file as a fresh module and check its functions exist."""
    source = read_source(component, path) if source is None else source
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise ProgramLoadError(component, f"syntax error at line {exc.lineno}: {exc.msg}") from exc
    except ValueError as exc:  # e.g. null bytes
        raise ProgramLoadError(component, f"cannot compile: {exc}") from exc
    name = f"evolved_program_{component}_{next(_counter)}"
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and typing look their module up here
    try:
        exec(code, module.__dict__)
    except MemoryError as exc:
        del sys.modules[name]
        raise ProgramLoadError(component, "ran out of memory while importing (allocates without bound?)") from exc
    except BaseException as exc:
        del sys.modules[name]
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ProgramLoadError(component, f"import raised {type(exc).__name__}: {exc}") from exc
    for function in REQUIRED[component]:
        if not callable(getattr(module, function, None)):
            raise ProgramLoadError(component, f"missing function {function}()")
    return module


@dataclass
class ProgramSet:
    """The loaded programs of one worker, with the sha256 of each component's source."""

    route: Callable[[str, dict[str, Any]], Any]
    translate: Callable[..., Any]
    get_profile: Callable[[str], Any]
    list_profiles: Callable[[], Any]
    paths: dict[str, Path] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # component -> source, for the program hash
    defaults: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.defaults = frozenset(c for c, p in self.paths.items() if is_default_path(p))

    def program_hash(self, program_paths: dict[str, str]) -> str:
        """The hash the operator computes for these programs (``programs.identity``): mounted
        sources by content, ``program_paths`` by path, defaults left out."""
        mounted = {
            c: self.sources[c]
            for c in self.paths
            if c not in program_paths and not self.is_default(c) and c in self.sources
        }
        return program_hash(mounted, {c: p for c, p in program_paths.items() if c in self.paths})

    def is_default(self, component: str) -> bool:
        """The package's own program (trusted, quick): the pipeline may call it on the event loop."""
        return component in self.defaults


def load_programs(programs_dir: str | Path | None = None, program_paths: dict[str, str] | None = None) -> ProgramSet:
    """Import the three components in this process; raises ProgramLoadError naming the component.

    ``programs_dir`` None: the package defaults (the operator mounts ``/etc/evolved/programs`` and
    names it in the config). Run ``check_programs`` first for files that are not trusted.
    """
    paths = resolve_paths(programs_dir, program_paths)
    modules: dict[str, ModuleType] = {}
    hashes: dict[str, str] = {}
    sources: dict[str, str] = {}
    for component, path in paths.items():
        source = read_source(component, path)
        hashes[component] = hashlib.sha256(source).hexdigest()
        sources[component] = source.decode("utf-8", errors="replace")
        modules[component] = load_module(component, path, source)
    return ProgramSet(
        route=modules["router"].route,
        translate=modules["translation"].translate,
        get_profile=modules["profiles"].get_profile,
        list_profiles=modules["profiles"].list_profiles,
        paths=paths,
        hashes=hashes,
        sources=sources,
    )
