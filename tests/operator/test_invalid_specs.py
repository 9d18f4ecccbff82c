"""Invalid EvolvedPipelines are rejected at `kubectl apply` by the real apiserver, with a clear message.

Each file under ``invalid_specs/`` is a full manifest (namespace omitted) whose first line is
``# expect: <fragment of the apiserver's error message>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from e2e import operator_proc
from e2e.kube import Kubectl
from evolved_operator.api import EvolvedPipelineSpec

SPECS_DIR = Path(__file__).parent / "invalid_specs"
INVALID = sorted(SPECS_DIR.glob("*.yaml"))

# Rules only the CRD's CEL validations (or the apiserver's strict decoding) enforce: the pydantic
# models carry them as schema extras, so model validation accepts these.
CEL_ONLY = {
    "duplicate-variant-names.yaml",  # CEL: variant names must be unique
    "no-stable-variant.yaml",  # CEL: exactly one variant must have role stable
    "two-stable-variants.yaml",  # CEL: exactly one variant must have role stable
    "minreplicas-above-maxreplicas.yaml",  # CEL: minReplicas <= maxReplicas
    "replicas-and-autoscaling-together.yaml",  # CEL: set replicas or autoscaling, not both
    "program-with-two-sources.yaml",  # CEL: exactly one of inline, configMapKeyRef or path
    "program-with-no-source.yaml",  # CEL: exactly one of inline, configMapKeyRef or path
    "maxsurge-and-maxunavailable-both-zero.yaml",  # CEL: not both zero
    # metadata.name rules: the spec model never sees the name (and the CRD lacks these rules today)
    "pipeline-and-variant-name-too-long.yaml",
    "pipeline-name-not-a-dns-1035-label.yaml",
}

VALID_MANIFEST = """\
apiVersion: pipelines.evolved.io/v1alpha1
kind: EvolvedPipeline
metadata:
  name: fine
spec:
  image: {repository: evolved-pipelines/runtime, tag: "0.1.0", pullPolicy: IfNotPresent}
  rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  llm:
    baseURL: https://llm.example/v1
    model: small
    apiKeySecretRef: {name: llm, key: token}
  solver: {timeoutMs: 2000, memoryMB: 512, poolSize: 2}
  pod:
    nodeSelector: {disk: ssd}
    tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
  variants:
    - name: stable
      role: stable
      replicas: 2
      resources: {requests: {cpu: 250m, memory: 256Mi}}
      env: [{name: MODE, value: fast}]
    - name: candidate
      role: candidate
      autoscaling: {minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70}
      programs:
        router: {inline: "def route(prompt, context): ..."}
        profiles: {path: /opt/programs/profiles.py}
        translation:
          configMapKeyRef: {name: progs, key: translation.py, sha256: "%s"}
""" % ("a" * 64)


def expected_fragment(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be `# expect: <fragment>`"
    return first.removeprefix("# expect: ").strip()


def spec_of(path: Path) -> Any:
    return yaml.safe_load(path.read_text())["spec"]


def test_there_are_at_least_25_invalid_specs_each_naming_its_error() -> None:
    assert len(INVALID) >= 25
    for path in INVALID:
        doc = yaml.safe_load(path.read_text())
        assert expected_fragment(path)
        assert (doc["apiVersion"], doc["kind"]) == ("pipelines.evolved.io/v1alpha1", "EvolvedPipeline"), path.name
        assert "namespace" not in doc["metadata"], path.name


def test_the_cel_only_list_names_existing_files() -> None:
    assert {p.name for p in INVALID} >= CEL_ONLY


def test_the_valid_manifest_passes_the_models() -> None:
    EvolvedPipelineSpec.model_validate(yaml.safe_load(VALID_MANIFEST)["spec"])


@pytest.mark.parametrize("path", [p for p in INVALID if p.name not in CEL_ONLY], ids=lambda p: p.stem)
def test_an_invalid_spec_fails_the_models_too(path: Path) -> None:
    with pytest.raises(pydantic.ValidationError):
        EvolvedPipelineSpec.model_validate(spec_of(path))


@pytest.mark.parametrize("name", sorted(CEL_ONLY))
def test_cel_only_specs_are_accepted_by_the_models(name: str) -> None:
    """Keeps CEL_ONLY honest: a file listed there that pydantic rejects belongs in the test above."""
    EvolvedPipelineSpec.model_validate(spec_of(SPECS_DIR / name))


@pytest.fixture(scope="module")
def crd_namespace(kubeconfig: str) -> Iterator[tuple[Kubectl, str]]:
    kubectl = Kubectl(kubeconfig)
    operator_proc.install_crd(kubectl)
    name = f"invalid-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    yield kubectl, name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def dry_run(kubectl: Kubectl, namespace: str, path: Path | None = None, stdin: str | None = None) -> Any:
    source = str(path) if path is not None else "-"
    return kubectl.run(
        "apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", source, stdin=stdin, check=False
    )


@pytest.mark.cluster
def test_a_valid_spec_is_accepted(crd_namespace: tuple[Kubectl, str]) -> None:
    kubectl, namespace = crd_namespace
    proc = dry_run(kubectl, namespace, stdin=VALID_MANIFEST)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.cluster
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_an_invalid_spec_is_rejected_at_apply_time_with_a_clear_message(
    crd_namespace: tuple[Kubectl, str], path: Path
) -> None:
    kubectl, namespace = crd_namespace
    proc = dry_run(kubectl, namespace, path)
    assert proc.returncode != 0, f"{path.name} was accepted"
    assert expected_fragment(path) in proc.stderr, proc.stderr
