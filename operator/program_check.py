"""Run ``evolved-runtime check`` on a variant's program sources, cached by their content hash.

The check imports and smoke-tests user code, so it runs in its own process (the runtime's
checker isolates each program again, with time and memory limits). Results are cached per
content hash: a program set is checked once per operator process, not once per reconcile (a
verdict reached by a time limit excepted: see :func:`timed_out`).
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHECK_TIMEOUT_SECONDS = 60.0


def sources_hash(sources: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for component in sorted(sources):
        digest.update(component.encode() + b"\0" + sources[component].encode() + b"\0")
    return digest.hexdigest()


TIME_LIMIT_MARKS = ("hangs", "did not finish within")


def timed_out(result: str | None) -> bool:
    """A verdict reached by a time limit (a hang, or a check that ran out of time): on a machine
    starved of CPU a sound program can earn it, so it is not cached and the next visit (a stalled
    pipeline is retried every few seconds) checks again; any other verdict depends only on the code."""
    return result is not None and any(mark in result for mark in TIME_LIMIT_MARKS)


@dataclass
class ProgramChecker:
    """Checks program sets (component -> source); returns the checker's message, or None if fine."""

    command: tuple[str, ...] = (sys.executable, "-m", "evolved_runtime.cli", "check")
    results: dict[str, str | None] = field(default_factory=dict)
    runs: int = 0

    async def check(self, sources: dict[str, str]) -> str | None:
        if not sources:
            return None
        key = sources_hash(sources)
        if key in self.results:
            return self.results[key]
        result = await self._run(sources)
        if not timed_out(result):
            self.results[key] = result
        return result

    async def _run(self, sources: dict[str, str]) -> str | None:
        self.runs += 1
        with tempfile.TemporaryDirectory(prefix="evolved-check-") as tmp:
            for component, source in sources.items():
                (Path(tmp) / f"{component}.py").write_text(source)
            proc = await asyncio.create_subprocess_exec(
                *self.command,
                tmp,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            try:
                output, _ = await asyncio.wait_for(proc.communicate(), CHECK_TIMEOUT_SECONDS)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                return f"the program check did not finish within {CHECK_TIMEOUT_SECONDS:.0f}s"
        if proc.returncode == 0:
            return None
        text = output.decode(errors="replace").strip()
        return text.replace(tmp, "<programs>")[-1000:] or f"the program check failed with exit code {proc.returncode}"
