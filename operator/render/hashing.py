"""Content hashes: what the pods run, and which programs they run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

HASH_LENGTH = 16  # hex characters shown in status, annotations and EVOLVED_PROGRAM_HASH


def _digest(payload: Any) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def program_hash(sources: Mapping[str, str], paths: Mapping[str, str]) -> str:
    """The variant's programs: mounted sources and image paths (defaults count as absent)."""
    return _digest({"sources": dict(sources), "paths": dict(paths)})[:HASH_LENGTH]


def content_hash(config_json: str, sources: Mapping[str, str], env: Sequence[Mapping[str, Any]]) -> str:
    """sha256 over the rendered config, the mounted programs and the container env. Set on the pod
    template, so a change of any of them rolls the Deployment (a ConfigMap change alone would not)."""
    return _digest({"config": config_json, "sources": dict(sources), "env": [dict(e) for e in env]})
