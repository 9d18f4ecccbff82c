"""The program hash: one value, computed the same way by the operator (from the spec) and by a
worker (from what it loaded), so `X-Evolved-Program-Hash`, the worker's metrics and the operator's
`status.variants[].programHash` name the same programs and analysis can tell who answered.

It covers the mounted sources (inline and ConfigMap programs, by content) and the image paths
(by path: the operator cannot read an image); the package's default programs count as absent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

HASH_LENGTH = 16  # hex characters shown in status, annotations, headers and EVOLVED_PROGRAM_HASH


def program_hash(sources: Mapping[str, str], paths: Mapping[str, str]) -> str:
    """``sources``: component -> mounted source; ``paths``: component -> path inside the image."""
    payload = {"sources": dict(sources), "paths": dict(paths)}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:HASH_LENGTH]
