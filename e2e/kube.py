"""Small helpers for tests and tooling: kubectl against a kubeconfig, and polling with a timeout."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A polled condition did not hold in time; the message says what was last seen."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.2) -> T:
    """Poll ``probe`` until it returns a truthy value, and return that value."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


@dataclass(frozen=True)
class Kubectl:
    """kubectl bound to one kubeconfig."""

    kubeconfig: str

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            text=True,
            capture_output=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def apply(self, manifest: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "--server-side", "-f", "-", *extra, stdin=manifest)

    def get(self, *args: str) -> Any:
        proc = self.run("get", *args, "-o", "json", check=False)
        if proc.returncode != 0:
            return None
        return json.loads(proc.stdout)

    def items(self, *args: str) -> list[dict[str, Any]]:
        found = self.get(*args)
        return list(found.get("items", [])) if found else []
