"""The local control plane is real: Kubernetes' own controllers, scheduler and admission."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.kube import Kubectl, wait_for

pytestmark = pytest.mark.cluster


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: example.invalid/web:1
        readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
"""


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_a_deployment_gets_a_replicaset_and_pods_that_are_scheduled_and_become_ready(
    kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(DEPLOYMENT.format(ns=namespace))

    replicasets = wait_for(
        "a ReplicaSet owned by the Deployment",
        lambda: [
            rs
            for rs in kubectl.items("replicasets", "-n", namespace)
            if rs["metadata"].get("ownerReferences", [{}])[0].get("kind") == "Deployment"
        ],
    )
    assert replicasets[0]["spec"]["replicas"] == 3

    pods = wait_for(
        "3 pods scheduled onto nodes and Ready",
        lambda: (
            pods
            if len(pods := kubectl.items("pods", "-n", namespace, "-l", "app=web")) == 3
            and all(p["spec"].get("nodeName") and _ready(p) for p in pods)
            else None
        ),
    )
    nodes = {n["metadata"]["name"] for n in kubectl.items("nodes")}
    assert {p["spec"]["nodeName"] for p in pods} <= nodes
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet" for p in pods)

    events = kubectl.items("events", "-n", namespace, "--field-selector", "reason=Scheduled")
    assert {e["source"].get("component") or e.get("reportingComponent") for e in events} == {"default-scheduler"}

    deployment = wait_for(
        "the Deployment to report 3 available replicas",
        lambda: (
            d
            if (d := kubectl.get("deployment", "web", "-n", namespace))["status"].get("availableReplicas") == 3
            else None
        ),
    )
    assert deployment["status"]["readyReplicas"] == 3


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.proof.evolved.io}
spec:
  group: proof.evolved.io
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              min: {type: integer}
              max: {type: integer}
            x-kubernetes-validations:
            - rule: self.min <= self.max
              message: min must not exceed max
"""


def _established(kubectl: Kubectl) -> bool:
    crd = kubectl.get("crd", "widgets.proof.evolved.io")
    conditions = (crd or {}).get("status", {}).get("conditions", [])
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def test_the_apiserver_enforces_a_crd_cel_rule_with_its_message(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(CRD)
    wait_for("the CRD to be Established", lambda: _established(kubectl))

    good = f"apiVersion: proof.evolved.io/v1\nkind: Widget\nmetadata: {{name: ok, namespace: {namespace}}}\nspec: {{min: 1, max: 2}}\n"
    bad = good.replace("name: ok", "name: bad").replace("min: 1, max: 2", "min: 5, max: 2")

    accepted = kubectl.run("apply", "--server-side", "-f", "-", stdin=good, check=False)
    assert accepted.returncode == 0, accepted.stderr
    rejected = kubectl.run("apply", "--server-side", "-f", "-", stdin=bad, check=False)
    assert rejected.returncode != 0
    assert "min must not exceed max" in rejected.stderr
    assert kubectl.get("widget", "bad", "-n", namespace) is None
