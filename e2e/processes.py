"""Background processes the tooling starts (operator, runtime workers): started and stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Background:
    """One process started by us, with its log file; stop() ends it by PID."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def start(name: str, cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> Background:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out = log_path.open("ab")
    process = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    out.close()
    return Background(name=name, process=process, log_path=log_path)


def stop_pidfile(pidfile: Path, timeout: float = 20.0) -> bool:
    """Stop the process whose PID a file holds (one we started earlier); True if one was stopped."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return False
    pidfile.unlink(missing_ok=True)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True
