"""Inbound API keys: ``Authorization: Bearer <key>``, compared in constant time.

Keys come from an environment variable (set from a Secret), one per line or comma separated.
Only their SHA-256 digests are kept; a presented key is hashed and compared with every digest
by ``hmac.compare_digest`` (no early exit on a match). A caller is known afterwards by a key id,
the digest's first 12 hex digits: that id, never the key, reaches limits, budgets and logs.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from evolved_runtime.config import AuthConfig


def parse_keys(text: str) -> list[str]:
    return [k.strip() for k in text.replace(",", "\n").splitlines() if k.strip()]


class ApiKeys:
    def __init__(self, keys: list[str]) -> None:
        self.digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    @classmethod
    def from_config(cls, config: AuthConfig, environ: dict[str, str] | None = None) -> ApiKeys | None:
        if config.api_keys_env is None:
            return None
        env = os.environ if environ is None else environ
        keys = parse_keys(env.get(config.api_keys_env, ""))
        if not keys:
            raise ValueError(f"auth.api_keys_env names {config.api_keys_env}, which holds no key")
        return cls(keys)

    def key_id(self, authorization: str | None) -> str | None:
        """The caller's key id for a valid ``Bearer`` header, else None."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        digest = hashlib.sha256(authorization[7:].strip().encode()).digest()
        found = None
        for known in self.digests:
            if hmac.compare_digest(digest, known):
                found = known
        return None if found is None else found.hex()[:12]
