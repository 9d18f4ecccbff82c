"""Content hashes: what the pods run, and which programs they run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from evolved_runtime.programs.identity import HASH_LENGTH, program_hash

__all__ = ["HASH_LENGTH", "content_hash", "program_hash"]


def _digest(payload: Any) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def content_hash(config_json: str, sources: Mapping[str, str], env: Sequence[Mapping[str, Any]]) -> str:
    """sha256 over the rendered config, the mounted programs and the container env. Set on the pod
    template, so a change of any of them rolls the Deployment (a ConfigMap change alone would not)."""
    return _digest({"config": config_json, "sources": dict(sources), "env": [dict(e) for e in env]})
