"""Validate and smoke-test a program set in an isolated child process, with time and memory limits.

Programs are user code: one that hangs at import or allocates without bound must not take the
worker (or the operator) with it. The child prints a line per component it starts and a JSON
verdict at the end; the parent kills it at the deadline and names the component it was on.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evolved_runtime.config import PipelineConfig
from evolved_runtime.programs.loader import ProgramLoadError, ProgramSet, load_module, load_programs, resolve_paths
from evolved_runtime.programs.protocols import COMPONENTS, Profile, RoutingDecision
from evolved_runtime.symil.models import Problem

SMOKE_PROMPTS = (
    "All cats are mammals. All mammals are animals. Therefore, all cats are animals.",
    "Solve 3x + 5 = 20",
    "Write a haiku about autumn.",
)
MARK = "evolved-check:"


@dataclass(frozen=True)
class ProgramProblem:
    component: str
    problem: str

    def __str__(self) -> str:
        return f"{self.component}: {self.problem}"


def _smoke(component: str, module: Any) -> str | None:
    """Call the component the way the pipeline will; return a problem or None."""
    try:
        if component == "router":
            for prompt in SMOKE_PROMPTS:
                decision = module.route(prompt, {})
                if isinstance(decision, dict):
                    decision = RoutingDecision.model_validate(decision)
                if not isinstance(decision, RoutingDecision):
                    return f"route() returned {type(decision).__name__}, expected RoutingDecision"
        elif component == "translation":
            result = module.translate(SMOKE_PROMPTS[0], 1, {}, None)
            if result is not None and not isinstance(result, Problem):
                return f"translate() returned {type(result).__name__}, expected a SymIL Problem or None"
        else:
            names = module.list_profiles()
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                return "list_profiles() must return a list of names"
            for name in names[:8]:
                profile = module.get_profile(name)
                if isinstance(profile, dict):
                    profile = Profile.model_validate(profile)
                if not isinstance(profile, Profile):
                    return f"get_profile({name!r}) returned {type(profile).__name__}, expected Profile"
    except MemoryError:
        return "ran out of memory in the smoke test"
    except Exception as exc:
        return f"smoke test raised {type(exc).__name__}: {exc}"
    return None


def child_main(argv: list[str]) -> int:
    """Run inside the isolated child: argv = [json of component -> path]."""
    paths = {c: Path(p) for c, p in json.loads(argv[0]).items()}
    problems: list[list[str]] = []
    for component in COMPONENTS:
        print(MARK, component, flush=True)
        try:
            module = load_module(component, paths[component])
        except ProgramLoadError as exc:
            problems.append([component, exc.problem])
            continue
        except MemoryError:
            problems.append([component, "ran out of memory while importing"])
            continue
        problem = _smoke(component, module)
        if problem:
            problems.append([component, problem])
    print(MARK, "result", json.dumps(problems), flush=True)
    return 0


def _limit_memory(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def check_paths(paths: dict[str, Path], timeout_s: float = 20.0, memory_mb: int = 1024) -> list[ProgramProblem]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from evolved_runtime.programs.check import child_main; "
         "sys.exit(child_main(sys.argv[1:]))", json.dumps({c: str(p) for c, p in paths.items()})],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: _limit_memory(memory_mb),
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        current = _last_component(out)
        return [ProgramProblem(current, f"did not finish within {timeout_s:.0f}s (hangs at import or in a call)")]
    for line in out.splitlines():
        if line.startswith(f"{MARK} result "):
            return [ProgramProblem(c, p) for c, p in json.loads(line[len(MARK) + 8 :])]
    current = _last_component(out)
    detail = (err.strip().splitlines() or ["no output"])[-1]
    if "MemoryError" in err or proc.returncode in (-9, 137):
        return [ProgramProblem(current, f"exceeded the memory limit of {memory_mb} MB")]
    return [ProgramProblem(current, f"the check process died (exit {proc.returncode}): {detail}")]


def _last_component(out: str) -> str:
    marks = [line.split()[1] for line in out.splitlines() if line.startswith(MARK) and len(line.split()) > 1]
    return marks[-1] if marks else "programs"


def check_programs(
    programs_dir: str | Path | None,
    program_paths: dict[str, str] | None = None,
    timeout_s: float = 20.0,
    memory_mb: int = 1024,
) -> list[ProgramProblem]:
    return check_paths(resolve_paths(programs_dir, program_paths), timeout_s, memory_mb)


def run_check(directory: str) -> int:
    """`evolved-runtime check DIR`: print the verdict; exit status 0 when every component passes."""
    if not Path(directory).is_dir():
        print(f"error: {directory} is not a directory", file=sys.stderr)
        return 2
    problems = check_programs(directory)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        return 1
    used = resolve_paths(directory)
    print("OK: " + ", ".join(f"{c} ({'default' if 'defaults' in str(p) else p.name})" for c, p in used.items()))
    return 0


@dataclass(frozen=True)
class ProgramStatus:
    ready: bool
    reason: str
    programs: ProgramSet | None = None


async def prepare(config: PipelineConfig) -> ProgramStatus:
    """Check the configured programs (isolated), then load them in-process; never raises."""
    custom = config.programs_dir is not None or bool(config.program_paths)
    try:
        if custom:
            problems = await asyncio.to_thread(check_programs, config.programs_dir, dict(config.program_paths))
            if problems:
                return ProgramStatus(False, "programs failed the check: " + "; ".join(map(str, problems)))
        programs = await asyncio.to_thread(load_programs, config.programs_dir, dict(config.program_paths))
    except ProgramLoadError as exc:
        return ProgramStatus(False, f"programs failed to load: {exc}")
    except Exception as exc:
        return ProgramStatus(False, f"programs failed to load: {type(exc).__name__}: {exc}")
    return ProgramStatus(True, "programs loaded", programs)
