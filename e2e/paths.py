"""Where the tooling keeps what it builds and runs: outside the repository, per version."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root: ``$EVOLVED_CACHE`` or ``~/.cache/evolved-pipelines``."""
    root = os.environ.get("EVOLVED_CACHE") or str(Path.home() / ".cache" / "evolved-pipelines")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def bin_dir() -> Path:
    path = cache_dir() / "bin"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cluster_dir() -> Path:
    path = cache_dir() / "cluster"
    path.mkdir(parents=True, exist_ok=True)
    return path
