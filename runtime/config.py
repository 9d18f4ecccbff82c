"""The pod contract: everything a runtime pod is told, as one pydantic model.

The operator imports :class:`PipelineConfig` and renders it into each variant's ConfigMap as
``/etc/evolved/pipeline.json``; the runtime validates the same file at start and refuses to
start, naming the field, when it does not validate. Secrets never appear here: the model holds
the *names* of environment variables that carry them (filled from ``secretKeyRef``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_CONFIG_PATH = Path("/etc/evolved/pipeline.json")
DEFAULT_PROGRAMS_DIR = Path("/etc/evolved/programs")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class LLMConfig(_Model):
    """One OpenAI-compatible provider (the runtime core's provider interface)."""

    provider: Literal["openai"] = Field(
        default="openai", description="Provider protocol. `openai` covers any OpenAI-compatible endpoint."
    )
    base_url: str = Field(description="Base URL of the provider, e.g. `https://api.openai.com/v1`.")
    model: str = Field(description="Model name sent upstream.")
    api_key_env: str | None = Field(
        default="EVOLVED_LLM_API_KEY",
        description="Name of the environment variable holding the API key (set from a Secret).",
    )
    timeout_s: float = Field(default=60.0, gt=0, le=600, description="Upstream request timeout in seconds.")
    max_tokens: int | None = Field(default=None, gt=0, description="Default max_tokens when the caller sets none.")

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


SOLVER_PROCESS_MB = 112
"""About the address space a solver process holds once Python, Z3 and Clingo are loaded (the limit
counts address space, not memory in use); under about 110 MB it cannot start at all."""
MIN_SOLVER_MEMORY_MB = 128
SOLVER_MEMORY_DESCRIPTION = (
    f"Address-space limit per solver process, in MiB; at least {MIN_SOLVER_MEMORY_MB}, as a process holds about "
    f"{SOLVER_PROCESS_MB} MiB once the solvers are loaded."
)


class SolverConfig(_Model):
    """Limits for solver calls, which run in a bounded process pool off the event loop."""

    timeout_ms: int = Field(default=2000, ge=10, le=600_000, description="Wall-clock limit per solver call.")
    memory_mb: int = Field(
        default=512,
        ge=MIN_SOLVER_MEMORY_MB,
        le=65_536,
        description=SOLVER_MEMORY_DESCRIPTION,
    )
    pool_size: int = Field(default=2, ge=1, le=64, description="Number of solver processes per worker process.")
    prefetch: int = Field(
        default=2,
        ge=0,
        le=4,
        description=(
            "Calls that may wait in a busy solver process's pipe while every process is busy, so it starts the "
            "next call the moment it answers (only small calls, only behind a call that started under 50 ms "
            "ago). 0: calls go to idle processes only."
        ),
    )
    cpu_affinity: Literal["none", "spread"] = Field(
        default="none",
        description=(
            "spread: pin each solver process to one of the CPUs the worker may use, evenly (a process then "
            "keeps its caches; meant for dedicated cores, e.g. Guaranteed pods under the static CPU manager; "
            "measured mixed on shared cores, docs/benchmarks.md). none: the kernel places them."
        ),
    )


class LimitsConfig(_Model):
    """Request-size limits; breaking one gives HTTP 413 or 400 with a clear message."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted.")
    max_messages: int = Field(default=256, ge=1, description="Most messages in one chat request.")
    max_content_chars: int = Field(default=100_000, ge=1, description="Longest content of one message.")


class ServerConfig(_Model):
    """HTTP behaviour that is optional by config."""

    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty: off.")
    gzip: bool = Field(default=False, description="Compress responses larger than 1 KiB with gzip.")
    graceful_timeout_s: float = Field(
        default=20.0, ge=0, le=3600, description="Grace period for in-flight requests after SIGTERM."
    )


class PipelineConfig(_Model):
    """The effective configuration of one runtime worker (one variant of one pipeline)."""

    pipeline: str = Field(default="local", description="Pipeline name (metrics label).")
    variant: str = Field(default="default", description="Variant name (metrics label).")
    model_name: str = Field(default="evolved", description="Model id served at /v1/models.")
    programs_dir: str | None = Field(
        default=None,
        description="Directory of evolved programs; unset: the defaults shipped in the package.",
    )
    program_paths: dict[str, str] = Field(
        default_factory=dict,
        description="Component -> absolute path of a program baked into the image; wins over programs_dir.",
    )
    llm: LLMConfig | None = Field(default=None, description="The LLM provider; unset: no LLM (Tier 0 gives 503).")
    solver: SolverConfig = Field(default_factory=SolverConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)

    def public(self) -> dict[str, Any]:
        """The configuration as served at ``/config``: no secrets (only names of variables)."""
        return self.model_dump(mode="json")


class ConfigError(ValueError):
    """An invalid configuration; the message names the field."""


def _describe(error: ValidationError, source: str) -> str:
    parts = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{loc}: {item['msg']}")
    return f"invalid configuration in {source}: " + "; ".join(parts)


ENV_PREFIX = "EVOLVED_"


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Environment overrides: EVOLVED_PIPELINE, EVOLVED_VARIANT, EVOLVED_PROGRAMS_DIR."""
    out: dict[str, Any] = {}
    if environ.get("EVOLVED_PIPELINE"):
        out["pipeline"] = environ["EVOLVED_PIPELINE"]
    if environ.get("EVOLVED_VARIANT"):
        out["variant"] = environ["EVOLVED_VARIANT"]
    if environ.get("EVOLVED_PROGRAMS_DIR"):
        out["programs_dir"] = environ["EVOLVED_PROGRAMS_DIR"]
    return out


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> PipelineConfig:
    """Read the mounted file (if any) plus environment overrides; raise ConfigError naming the field."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    source = "defaults"
    if path is None and env.get("EVOLVED_CONFIG"):
        path = env["EVOLVED_CONFIG"]
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
        try:
            loaded = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON in {path} at line {exc.lineno}: {exc.msg}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"invalid configuration in {path}: the top level must be a JSON object")
        data = loaded
    data.update(_env_overrides(env))
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc
