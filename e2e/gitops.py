"""What GitOps tools make of an EvolvedPipeline, asked of their own libraries.

``tools/gitops-health`` is a small Go program built from ``sigs.k8s.io/cli-utils`` (kstatus, which
Flux's health checks use) and ``github.com/yuin/gopher-lua`` (the Lua that Argo CD runs health checks
with, set up as for an argocd-cm check). It is built on first use into the cache, keyed by the hash
of its sources, so an edit rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from e2e import chart, toolchain
from e2e.paths import bin_dir

SOURCE = chart.ROOT / "tools" / "gitops-health"
ARGOCD_LUA = chart.CHART / "files" / "argocd-health.lua"
ARGOCD_KEY = "resource.customizations.health.pipelines.evolved.io_EvolvedPipeline"


def _source_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update(name.encode() + b"\0" + (SOURCE / name).read_bytes())
    return digest.hexdigest()[:12]


def built_once(out: Path, name: str, cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Path:
    """``out/name``, built by ``cmd`` (a go build or install writing it) unless a complete build
    of it is there already."""
    binary = out / name
    if (out / ".complete").exists() and binary.is_file():
        return binary
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0:
        raise AssertionError(f"building {name} failed: {proc.stderr.strip()}")
    (out / ".complete").write_text(" ".join(cmd) + "\n")
    return binary


def checker() -> Path:
    """The built checker, compiled now if this version of its sources was never built."""
    out = bin_dir() / f"gitops-health-{_source_hash()}"
    cmd = ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(out / "gitops-health"), "."]
    return built_once(out, "gitops-health", cmd, {**toolchain.go_env(), "GOFLAGS": "-mod=readonly"}, SOURCE)


def _judge(objects: list[dict[str, Any]], *args: str) -> list[dict[str, str]]:
    proc = subprocess.run(
        [str(checker()), *args],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ},
    )
    if proc.returncode != 0:
        raise AssertionError(f"gitops-health {' '.join(args)} failed: {proc.stderr.strip()}")
    return list(json.loads(proc.stdout))


def kstatus(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    """kstatus' verdicts (``Current``, ``InProgress``, ``Failed``, ...) with their messages."""
    return _judge(objects, "kstatus")


def argocd(objects: list[dict[str, Any]], script: Path = ARGOCD_LUA) -> list[dict[str, str]]:
    """The Argo CD health check's verdicts (``Healthy``, ``Progressing``, ``Suspended``, ``Degraded``)."""
    return _judge(objects, "argocd", str(script))


def main() -> int:
    """Build the checker and promtool now (`make binaries`), not inside a test's time limit."""
    from e2e import monitoring

    for name, build in (("gitops-health", checker), ("promtool", monitoring.promtool)):
        print(f"[gitops] {name}: building if not cached (minutes when the Go caches are cold)", flush=True)
        print(f"[gitops] {name}: {build()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
