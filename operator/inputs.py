"""Read what a pipeline's spec refers to (ConfigMaps, Secrets) and check its programs: the I/O half
of building the desired state. Problems come back as :class:`Problem` items naming the field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.api_llm import SecretKeyRef
from evolved_operator.kube import Kube
from evolved_operator.problems import Problem
from evolved_operator.program_check import ProgramChecker
from evolved_operator.render.llm_path import secret_refs


@dataclass
class Inputs:
    spec: EvolvedPipelineSpec | None
    programs: dict[str, dict[str, str]] = field(default_factory=dict)  # variant -> component -> source
    problems: list[Problem] = field(default_factory=list)
    references: frozenset[tuple[str, str]] = frozenset()


def parse_spec(body: dict[str, Any]) -> tuple[EvolvedPipelineSpec | None, list[Problem]]:
    try:
        return EvolvedPipelineSpec.model_validate(body.get("spec") or {}), []
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "spec." + ".".join(str(p) for p in first["loc"])
        return None, [Problem("InvalidSpec", f"{where}: {first['msg']}")]


def secret_problem(where: str, ref: SecretKeyRef, secret: dict[str, Any] | None, namespace: str) -> Problem | None:
    """Pure: what is wrong with a Secret a field names (missing, or without the key), if anything."""
    if secret is None:
        return Problem("SecretNotFound", f"{where}: Secret {ref.name!r} not found in namespace {namespace!r}")
    if ref.key not in (secret.get("data") or {}) and ref.key not in (secret.get("stringData") or {}):
        return Problem("SecretKeyNotFound", f"{where}: Secret {ref.name!r} has no key {ref.key!r}")
    return None


def needs_inputs(body: dict[str, Any]) -> bool:
    """Whether resolving this spec reads the API or runs the program check (slow work)."""
    spec = body.get("spec") or {}
    llm = spec.get("llm") or {}
    if llm.get("apiKeySecretRef") or llm.get("providers") or spec.get("auth") or (spec.get("cache") or {}).get("redis"):
        return True
    return any((v.get("programs") or {}) for v in spec.get("variants") or [] if isinstance(v, dict))


async def resolve_inputs(body: dict[str, Any], kube: Kube, checker: ProgramChecker) -> Inputs:
    spec, problems = parse_spec(body)
    if spec is None:
        return Inputs(spec=None, problems=problems)
    namespace = str(body["metadata"]["namespace"])
    references: set[tuple[str, str]] = set()
    programs: dict[str, dict[str, str]] = {}
    configmaps: dict[str, dict[str, Any] | None] = {}
    for i, variant in enumerate(spec.variants):
        sources: dict[str, str] = {}
        for component, source in variant.programs.sources().items():
            where = f"spec.variants[{i}].programs.{component}"
            if source.inline is not None:
                sources[component] = source.inline
            elif source.config_map_key_ref is not None:
                ref = source.config_map_key_ref
                references.add(("ConfigMap", ref.name))
                if ref.name not in configmaps:
                    configmaps[ref.name] = await kube.get("v1", "ConfigMap", namespace, ref.name)
                found = configmaps[ref.name]
                data = (found or {}).get("data") or {}
                if found is None:
                    problems.append(
                        Problem(
                            "ConfigMapNotFound",
                            f"{where}.configMapKeyRef: ConfigMap {ref.name!r} not found in namespace {namespace!r}",
                        )
                    )
                elif ref.key not in data:
                    problems.append(
                        Problem(
                            "ConfigMapKeyNotFound",
                            f"{where}.configMapKeyRef: ConfigMap {ref.name!r} has no key {ref.key!r} (keys: {', '.join(sorted(data)) or 'none'})",
                        )
                    )
                else:
                    text = str(data[ref.key])
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    if ref.sha256 and ref.sha256 != digest:
                        problems.append(
                            Problem(
                                "ProgramDigestMismatch",
                                f"{where}.configMapKeyRef.sha256: pinned {ref.sha256[:12]}..., but {ref.name}/{ref.key} has sha256 {digest[:12]}...",
                            )
                        )
                    else:
                        sources[component] = text
        programs[variant.name] = sources
    secrets: dict[str, dict[str, Any] | None] = {}
    for _, where, secret_ref in secret_refs(spec):
        references.add(("Secret", secret_ref.name))
        if secret_ref.name not in secrets:
            secrets[secret_ref.name] = await kube.get("v1", "Secret", namespace, secret_ref.name)
        problem = secret_problem(where, secret_ref, secrets[secret_ref.name], namespace)
        if problem is not None:
            problems.append(problem)
    if not problems:
        for i, variant in enumerate(spec.variants):
            message = await checker.check(programs.get(variant.name, {}))
            if message:
                problems.append(
                    Problem("ProgramCheckFailed", f"spec.variants[{i}].programs ({variant.name}): {message}")
                )
    return Inputs(spec=spec, programs=programs, problems=problems, references=frozenset(references))
