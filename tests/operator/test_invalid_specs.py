"""Invalid EvolvedPipelines are rejected at `kubectl apply` by the real apiserver, with a clear message.

Each file under ``invalid_specs/`` is a full manifest (namespace omitted) whose first line is
``# expect: <fragment of the apiserver's error message>`` and whose second line says what is wrong.
The same files go through the pydantic models too: they fail there at the same field, and a
cross-field rule fails with the same message as its CEL twin.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from e2e import operator_proc
from e2e.kube import Kubectl
from evolved_operator.api import EvolvedPipeline

SPECS_DIR = Path(__file__).parent / "invalid_specs"
INVALID = sorted(SPECS_DIR.glob("*.yaml"))

VALID_MANIFEST = """\
apiVersion: pipelines.evolved.io/v1alpha1
kind: EvolvedPipeline
metadata:
  name: fine
spec:
  image: {repository: registry.local:5000/evolved/runtime, tag: "0.1.0", pullPolicy: IfNotPresent,
          pullSecrets: [registry]}
  rollingUpdate: {maxSurge: 1, maxUnavailable: "10%%"}
  llm:
    baseURL: https://llm.example/v1
    model: small
    apiKeySecretRef: {name: llm, key: token}
    timeoutSeconds: 30
  solver: {timeoutMs: 2000, memoryMB: 512, poolSize: 2}
  pod:
    nodeSelector: {disk: ssd, kubernetes.io/arch: amd64}
    tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}, {operator: Exists}]
    affinity: {nodeAffinity: {}}
    labels: {team: ml, example.com/cost-center: "42"}
    annotations: {prometheus.io/scrape: "true"}
    serviceAccountName: runner
  variants:
    - name: stable
      role: stable
      replicas: 2
      resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: "1", memory: 1Gi}}
      env: [{name: MODE, value: fast}, {name: LEVEL, value: "2"}]
    - name: candidate
      role: candidate
      autoscaling: {minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70}
      programs:
        router: {inline: "def route(prompt, context): ..."}
        profiles: {path: /opt/programs/profiles.py}
        translation:
          configMapKeyRef: {name: progs, key: translation.py, sha256: "%s"}
    - name: pinned
      role: candidate
      replicas: 0
""" % ("a" * 64)


def expected_fragment(path: Path) -> str:
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# expect: "), f"{path.name}: first line must be `# expect: <fragment>`"
    assert lines[1].startswith("# "), f"{path.name}: second line must say what is wrong"
    return lines[0].removeprefix("# expect: ").strip()


def document(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the apiserver writes it: spec.variants[0].name."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def test_there_are_at_least_25_invalid_specs_each_naming_its_error() -> None:
    assert len(INVALID) >= 25
    names = set()
    for path in INVALID:
        doc = document(path)
        assert expected_fragment(path)
        assert (doc["apiVersion"], doc["kind"]) == ("pipelines.evolved.io/v1alpha1", "EvolvedPipeline"), path.name
        assert "namespace" not in doc["metadata"], path.name
        names.add(doc["metadata"]["name"])
    assert len(names) == len(INVALID), "each file names its own pipeline"


def test_the_valid_manifest_passes_the_models() -> None:
    EvolvedPipeline.model_validate(yaml.safe_load(VALID_MANIFEST))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_an_invalid_spec_fails_the_models_at_the_field_the_apiserver_names(path: Path) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        EvolvedPipeline.model_validate(document(path))
    first = caught.value.errors()[0]
    fragment = expected_fragment(path)
    where = field_path(first["loc"])
    assert where in fragment, f"pydantic blames {where!r}, the apiserver: {fragment!r}"
    if first["type"] == "value_error":  # a cross-field rule: CEL says the same
        rule_message = fragment.split('"object": ')[-1]
        assert rule_message in first["msg"]


@pytest.mark.parametrize(
    ("loc", "path"),
    [(("spec", "variants", 0, "name"), "spec.variants[0].name"), ((), ""), (("spec",), "spec")],
)
def test_field_paths_are_written_like_the_apiservers(loc: tuple[int | str, ...], path: str) -> None:
    assert field_path(loc) == path


@pytest.fixture(scope="module")
def crd_namespace(kubeconfig: str) -> Iterator[tuple[Kubectl, str]]:
    """The CRD applied server-side and Established (polled), and a namespace to dry-run in."""
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
def test_a_valid_spec_using_every_field_is_accepted(crd_namespace: tuple[Kubectl, str]) -> None:
    kubectl, namespace = crd_namespace
    proc = dry_run(kubectl, namespace, stdin=VALID_MANIFEST)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.cluster
def test_the_apiserver_fills_in_the_documented_defaults(crd_namespace: tuple[Kubectl, str]) -> None:
    kubectl, namespace = crd_namespace
    minimal = "apiVersion: pipelines.evolved.io/v1alpha1\nkind: EvolvedPipeline\nmetadata: {name: minimal}\n"
    minimal += "spec: {variants: [{name: stable}], rollingUpdate: {}, solver: {}}\n"
    proc = kubectl.run(
        "apply", "--server-side", "--dry-run=server", "-n", namespace, "-o", "yaml", "-f", "-", stdin=minimal
    )
    spec = yaml.safe_load(proc.stdout)["spec"]
    assert spec["variants"] == [{"name": "stable", "role": "stable"}]
    assert spec["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": 0}
    assert spec["solver"] == {"timeoutMs": 2000, "memoryMB": 512, "poolSize": 2}


@pytest.mark.cluster
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_an_invalid_spec_is_rejected_at_apply_time_with_a_clear_message(
    crd_namespace: tuple[Kubectl, str], path: Path
) -> None:
    kubectl, namespace = crd_namespace
    proc = dry_run(kubectl, namespace, path)
    assert proc.returncode != 0, f"{path.name} was accepted"
    assert expected_fragment(path) in proc.stderr, proc.stderr
    assert not re.search(r"estimated rule cost|no such key|no such overload", proc.stderr), proc.stderr
