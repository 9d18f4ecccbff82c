"""Evolved programs: the interface (Protocols), the loader and the isolated checker."""

from evolved_runtime.programs.check import ProgramProblem, ProgramStatus, check_programs, prepare, run_check
from evolved_runtime.programs.loader import ProgramLoadError, ProgramSet, load_programs
from evolved_runtime.programs.protocols import COMPONENTS, LLMHandle, Profile, RoutingDecision

__all__ = [
    "COMPONENTS",
    "LLMHandle",
    "Profile",
    "ProgramLoadError",
    "ProgramProblem",
    "ProgramSet",
    "ProgramStatus",
    "RoutingDecision",
    "check_programs",
    "load_programs",
    "prepare",
    "run_check",
]
