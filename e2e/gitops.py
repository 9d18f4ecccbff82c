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


def checker() -> Path:
    """The built checker, compiled now if this version of its sources was never built."""
    out = bin_dir() / f"gitops-health-{_source_hash()}"
    binary = out / "gitops-health"
    if (out / ".complete").exists() and binary.is_file():
        return binary
    out.mkdir(parents=True, exist_ok=True)
    env = {**toolchain.go_env(), "GOFLAGS": "-mod=readonly"}
    proc = subprocess.run(
        ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(binary), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if proc.returncode != 0:
        raise AssertionError(f"building tools/gitops-health failed: {proc.stderr.strip()}")
    (out / ".complete").write_text(_source_hash() + "\n")
    return binary


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
