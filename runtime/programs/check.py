"""Validate and smoke-test a program set in an isolated child process, with time and memory limits.

Programs are user code: one that hangs at import or allocates without bound must not take the
worker (or the operator) with it. The child limits its own address space, then reports on its
real stdout what it is about to do ("router import", "router call route()"), and a JSON verdict
at the end; program output goes to stderr. The parent kills the child at the deadline and names
the component and step it was on.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from evolved_runtime.programs.loader import (
    ProgramLoadError,
    ProgramSet,
    is_default_path,
    load_module,
    load_programs,
    resolve_paths,
)
from evolved_runtime.programs.protocols import COMPONENTS
from evolved_runtime.programs.validate import ProgramResultError, as_decision, as_names, as_problem, as_profile

if TYPE_CHECKING:
    from evolved_runtime.config import PipelineConfig

SMOKE_PROMPTS = (
    "All cats are mammals. All mammals are animals. Therefore, all cats are animals.",
    "Solve 3x + 5 = 20",
    "Write a haiku about autumn.",
    "```smt2\n(declare-const x Int)\n(assert (> x 2))\n(check-sat)\n```",
)
SMOKE_CONTEXTS: tuple[dict[str, Any], ...] = ({}, {"tier": 2, "history": [{"role": "user", "content": "hi"}]})
MARK = "evolved-check:"
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MEMORY_MB = 1024


@dataclass(frozen=True)
class ProgramProblem:
    """One problem found in one component."""

    component: str
    problem: str

    def __str__(self) -> str:
        return f"{self.component}: {self.problem}"


# -- the child ------------------------------------------------------------------------------


class _Smoke:
    """Calls a loaded component the way the pipeline will, announcing each call first."""

    def __init__(self, marks: TextIO, memory_mb: int) -> None:
        self.marks = marks
        self.memory_mb = memory_mb
        self.profile_names: set[str] = {"default"}

    def mark(self, component: str, step: str) -> None:
        print(MARK, component, step, file=self.marks, flush=True)

    def run(self, component: str, module: Any) -> str | None:
        """A problem with ``component``, or None."""
        call = "import"
        try:
            if component == "router":
                for prompt in SMOKE_PROMPTS:
                    for context in SMOKE_CONTEXTS:
                        call = "route()"
                        self.mark(component, f"call {call}")
                        decision = as_decision(module.route(prompt, dict(context)))
                        self.profile_names.add(decision.profile_name)
            elif component == "translation":
                call = "translate()"
                for prompt in SMOKE_PROMPTS[:2]:
                    for level in (1, 2):
                        self.mark(component, f"call {call}")
                        as_problem(module.translate(prompt, level, {"profile": "default"}, None))
            else:
                call = "list_profiles()"
                self.mark(component, f"call {call}")
                names = as_names(module.list_profiles())
                for name in sorted(self.profile_names) + [n for n in names[:16] if n not in self.profile_names]:
                    call = f"get_profile({name!r})"
                    self.mark(component, f"call {call}")
                    as_profile(module.get_profile(name), name)
        except ProgramResultError as exc:
            return str(exc)
        except MemoryError:
            return f"allocates without bound: ran out of memory (limit {self.memory_mb} MB) in {call}"
        except Exception as exc:
            return f"{call} raised {type(exc).__name__}: {exc}"
        return None


def child_main(argv: list[str]) -> int:
    """Run inside the isolated child: argv = [JSON of component -> path, memory limit in MB]."""
    paths = {c: Path(p) for c, p in json.loads(argv[0]).items()}
    memory_mb = int(argv[1])
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    marks, sys.stdout = sys.stdout, sys.stderr  # what programs print must not look like a verdict
    smoke = _Smoke(marks, memory_mb)
    problems: list[list[str]] = []
    for component in COMPONENTS:
        smoke.mark(component, "import")
        try:
            module = load_module(component, paths[component])
        except (ProgramLoadError, MemoryError) as exc:
            # the loader reports a MemoryError at import as a load error caused by it
            if isinstance(exc, ProgramLoadError) and not isinstance(exc.__cause__, MemoryError):
                problems.append([component, exc.problem])
            else:
                problems.append(
                    [component, f"allocates without bound: ran out of memory (limit {memory_mb} MB) at import"]
                )
            continue
        problem = smoke.run(component, module)
        if problem:
            problems.append([component, problem])
    print(MARK, "result", json.dumps(problems), file=marks, flush=True)
    return 0


# -- the parent -----------------------------------------------------------------------------


def _last_step(out: str) -> tuple[str, str]:
    """(component, step) of the last mark the child printed."""
    for line in reversed(out.splitlines()):
        parts = line.split(" ", 2)
        if parts[0] == MARK and len(parts) == 3 and parts[1] != "result":
            return parts[1], parts[2]
    return "programs", "start"


def _hang_problem(step: str, timeout_s: float) -> str:
    if step == "import":
        return f"hangs at import: did not finish importing within {timeout_s:g}s"
    return f"hangs: {step.removeprefix('call ')} did not return within {timeout_s:g}s"


def check_paths(
    paths: dict[str, Path], timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB
) -> list[ProgramProblem]:
    """Check the given component files in a child process; [] when all pass."""
    code = "import sys; from evolved_runtime.programs.check import child_main; sys.exit(child_main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps({c: str(p) for c, p in paths.items()}), str(memory_mb)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        component, step = _last_step(out)
        return [ProgramProblem(component, _hang_problem(step, timeout_s))]
    for line in out.splitlines():
        if line.startswith(f"{MARK} result "):
            return [ProgramProblem(c, p) for c, p in json.loads(line.removeprefix(f"{MARK} result "))]
    component, step = _last_step(out)
    where = "at import" if step == "import" else f"in {step.removeprefix('call ')}"
    if "MemoryError" in err or proc.returncode in (-9, 137):
        return [
            ProgramProblem(component, f"allocates without bound: exceeded the memory limit of {memory_mb} MB {where}")
        ]
    detail = (err.strip().splitlines() or ["no output"])[-1]
    return [ProgramProblem(component, f"the check process died {where} (exit code {proc.returncode}): {detail}")]


def check_programs(
    programs_dir: str | Path | None,
    program_paths: dict[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> list[ProgramProblem]:
    """Validate and smoke-test the program set a worker would load from ``programs_dir``
    (missing files: the defaults), isolated, within ``timeout_s`` and ``memory_mb``."""
    return check_paths(resolve_paths(programs_dir, program_paths), timeout_s, memory_mb)


def run_check(directory: str) -> int:
    """`evolved-runtime check DIR`: print each problem as ``FAIL component: problem``; exit 1 if any."""
    if not Path(directory).is_dir():
        print(f"error: {directory} is not a directory", file=sys.stderr)
        return 2
    problems = check_programs(directory)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        return 1
    used = resolve_paths(directory)
    print("OK: " + ", ".join(f"{c} ({'default' if is_default_path(p) else p.name})" for c, p in used.items()))
    return 0


# -- readiness ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramStatus:
    """Whether a worker's programs may serve: ``reason`` says why not (shown by /ready)."""

    ready: bool
    reason: str
    programs: ProgramSet | None = None


async def prepare(config: PipelineConfig) -> ProgramStatus:
    """Check the configured programs (isolated, unless all are the package's defaults), then load
    them in this process. Never raises: a failure is a not-ready status with the reason."""
    paths = resolve_paths(config.programs_dir, dict(config.program_paths))
    try:
        if not all(is_default_path(p) for p in paths.values()):
            problems = await asyncio.to_thread(check_programs, config.programs_dir, dict(config.program_paths))
            if problems:
                return ProgramStatus(False, "programs failed the check: " + "; ".join(map(str, problems)))
        programs = await asyncio.to_thread(load_programs, config.programs_dir, dict(config.program_paths))
    except ProgramLoadError as exc:
        return ProgramStatus(False, f"programs failed to load: {exc}")
    except Exception as exc:
        return ProgramStatus(False, f"programs failed to load: {type(exc).__name__}: {exc}")
    return ProgramStatus(True, "programs loaded", programs)
