"""Invalid EvolvedPipelines are rejected at `kubectl apply` by the real apiserver, with a clear message."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from e2e import operator_proc
from e2e.kube import Kubectl

Spec = dict[str, Any]


def valid() -> Spec:
    return {
        "variants": [
            {"name": "stable", "role": "stable", "replicas": 2},
            {"name": "candidate", "role": "candidate", "replicas": 1},
        ]
    }


def edit(change: Callable[[Spec], None]) -> Spec:
    spec = valid()
    change(spec)
    return spec


def variant(spec: Spec, i: int = 0) -> dict[str, Any]:
    return dict(spec["variants"][i])


def set_variant(**fields: Any) -> Callable[[Spec], None]:
    return lambda s: s["variants"][0].update(fields)


def drop_replicas(s: Spec) -> None:
    s["variants"][0].pop("replicas")


CM = {"configMapKeyRef": {"name": "progs", "key": "router.py"}}
INVALID: list[tuple[str, Spec, str]] = [
    ("duplicate variant names", edit(lambda s: s["variants"].append(copy.deepcopy(s["variants"][1]))), "variant names must be unique"),
    ("no stable variant", edit(lambda s: s["variants"][0].update(role="candidate")), "exactly one variant must have role stable"),
    ("two stable variants", edit(lambda s: s["variants"][1].update(role="stable")), "exactly one variant must have role stable"),
    ("no variants", {"variants": []}, "should have at least 1 items"),
    ("variants missing", {"image": {"tag": "1"}}, "spec.variants: Required value"),
    ("more than 8 variants", {"variants": [{"name": f"v{i}", "role": "stable" if i == 0 else "candidate"} for i in range(9)]}, "must have at most 8 items"),
    ("minReplicas above maxReplicas", edit(lambda s: (drop_replicas(s), s["variants"][0].update(autoscaling={"minReplicas": 5, "maxReplicas": 2}))), "minReplicas must not exceed maxReplicas"),
    ("replicas and autoscaling together", edit(set_variant(autoscaling={"maxReplicas": 3})), "set replicas or autoscaling, not both"),
    ("program with two sources", edit(set_variant(programs={"router": {"inline": "x", **CM}})), "set exactly one of inline, configMapKeyRef or path"),
    ("program with no source", edit(set_variant(programs={"router": {}})), "set exactly one of inline, configMapKeyRef or path"),
    ("sha256 pin that is not a digest", edit(set_variant(programs={"router": {"configMapKeyRef": {"name": "p", "key": "k", "sha256": "abc"}}})), "sha256"),
    ("variant name not a DNS label", edit(set_variant(name="Stable_1")), "spec.variants[0].name"),
    ("variant name too long", edit(set_variant(name="v" * 41)), "may not be more than 40"),
    ("unknown role", edit(set_variant(role="primary")), 'Unsupported value: "primary"'),
    ("negative replicas", edit(set_variant(replicas=-1)), "should be greater than or equal to 0"),
    ("maxSurge and maxUnavailable both zero", edit(lambda s: s.update(rollingUpdate={"maxSurge": 0, "maxUnavailable": 0})), "must not both be zero"),
    ("unknown field", edit(lambda s: s.update(replicaCount=3)), ".spec.replicaCount: field not declared in schema"),
    ("unknown pull policy", edit(lambda s: s.update(image={"pullPolicy": "Sometimes"})), 'Unsupported value: "Sometimes"'),
    ("LLM base URL without http(s)", edit(lambda s: s.update(llm={"baseURL": "ftp://x", "model": "m"})), "spec.llm.baseURL"),
    ("LLM without a model", edit(lambda s: s.update(llm={"baseURL": "https://x"})), "spec.llm.model: Required value"),
    ("solver timeout too small", edit(lambda s: s.update(solver={"timeoutMs": 1})), "spec.solver.timeoutMs"),
    ("solver memory too large", edit(lambda s: s.update(solver={"memoryMB": 10**6})), "spec.solver.memoryMB"),
    ("env var with a bad name", edit(set_variant(env=[{"name": "1 BAD", "value": "x"}])), "spec.variants[0].env[0].name"),
    ("cpu request that is not a quantity", edit(set_variant(resources={"requests": {"cpu": "lots"}})), "spec.variants[0].resources.requests.cpu"),
    ("CPU target above 100 percent", edit(lambda s: (drop_replicas(s), s["variants"][0].update(autoscaling={"maxReplicas": 3, "targetCPUUtilizationPercentage": 150}))), "should be less than or equal to 100"),
    ("image program path not a .py file", edit(set_variant(programs={"router": {"path": "/opt/router.txt"}})), "spec.variants[0].programs.router.path"),
    ("relative image program path", edit(set_variant(programs={"router": {"path": "router.py"}})), "spec.variants[0].programs.router.path"),
    ("toleration with an unknown effect", edit(lambda s: s.update(pod={"tolerations": [{"key": "k", "effect": "Sometimes"}]})), 'Unsupported value: "Sometimes"'),
    ("maxReplicas of zero", edit(lambda s: (drop_replicas(s), s["variants"][0].update(autoscaling={"maxReplicas": 0}))), "should be greater than or equal to 1"),
]  # fmt: skip


def manifest(name: str, spec: Spec) -> str:
    obj = {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": name},
        "spec": spec,
    }
    return yaml.safe_dump(obj)


@pytest.fixture(scope="module")
def crd_namespace(kubeconfig: str) -> Iterator[tuple[Kubectl, str]]:
    kubectl = Kubectl(kubeconfig)
    operator_proc.install_crd(kubectl)
    name = f"invalid-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    yield kubectl, name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def test_there_are_at_least_25_invalid_specs() -> None:
    assert len(INVALID) >= 25


@pytest.mark.cluster
def test_a_valid_spec_is_accepted(crd_namespace: tuple[Kubectl, str]) -> None:
    kubectl, namespace = crd_namespace
    proc = kubectl.run("apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", "-",
                       stdin=manifest("fine", valid()), check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.cluster
@pytest.mark.parametrize(("case", "spec", "fragment"), INVALID, ids=[c[0] for c in INVALID])
def test_an_invalid_spec_is_rejected_at_apply_time_with_a_clear_message(
    crd_namespace: tuple[Kubectl, str], case: str, spec: Spec, fragment: str
) -> None:
    kubectl, namespace = crd_namespace
    proc = kubectl.run("apply", "--server-side", "--dry-run=server", "-n", namespace, "-f", "-",
                       stdin=manifest("bad", spec), check=False)  # fmt: skip
    assert proc.returncode != 0, f"{case} was accepted"
    assert fragment in proc.stderr, proc.stderr
