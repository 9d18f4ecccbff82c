"""What the solver pool's pipes carry per call: the call, then its outcome, each one frame.

Both are pickles of plain tuples of builtins: a call is ``(kind, source, backend, timeout_ms)``
for formal input (ASP, SMT-LIB 2), whose task is rebuilt from its source in the solver process,
or ``("symil", problem, backend, timeout_ms)`` for a SymIL problem; an outcome is ``(verdict,
backend, model, detail)``, validated again as a ``SolveOutcome`` when it is read. Pickling the
pydantic objects themselves names their classes and rebuilding functions in every pickle, and
looking those up took about half of each end's encoding time (2.7 against 0.4 us to write a Clingo
call, 6.6 against 5.8 us to read its outcome; docs/benchmarks.md). Plain ``pickle.dumps``, not
``Connection.send``, whose ForkingPickler copies a dispatch table on every call.
"""

from __future__ import annotations

import pickle

from evolved_runtime.solvers.backends import Backend, SolveOutcome
from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask

_SOURCE_KINDS: dict[str, type[AspTask] | type[SmtLibTask]] = {"asp": AspTask, "smt": SmtLibTask}
_PROTOCOL = pickle.HIGHEST_PROTOCOL


def call_bytes(task: FormalTask, backend: Backend, timeout_ms: int) -> bytes:
    """One call for a solver process."""
    if isinstance(task, AspTask):
        return pickle.dumps(("asp", task.source, backend, timeout_ms), _PROTOCOL)
    if isinstance(task, SmtLibTask):
        return pickle.dumps(("smt", task.source, backend, timeout_ms), _PROTOCOL)
    return pickle.dumps(("symil", task, backend, timeout_ms), _PROTOCOL)


def read_call(data: bytes) -> tuple[FormalTask, Backend, int]:
    """The call ``call_bytes`` wrote."""
    kind, task, backend, timeout_ms = pickle.loads(data)
    if kind in _SOURCE_KINDS:
        task = _SOURCE_KINDS[kind](source=task)
    return task, backend, timeout_ms


def outcome_bytes(outcome: SolveOutcome) -> bytes:
    """One outcome for the pool."""
    return pickle.dumps((outcome.verdict, outcome.backend, outcome.model, outcome.detail), _PROTOCOL)


def read_outcome(data: bytes) -> SolveOutcome:
    """The outcome ``outcome_bytes`` wrote; raises (pickle's errors, ValueError, pydantic's
    ValidationError) when the bytes are not one."""
    verdict, backend, model, detail = pickle.loads(data)
    return SolveOutcome(verdict=verdict, backend=backend, model=model, detail=detail)
