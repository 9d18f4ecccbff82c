"""The operator on the real control plane: children, readiness, rolling updates, HPA, GC, restarts."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest

from e2e import processes
from e2e.evp import ROUTER_V1, ROUTER_V2, apply, condition, owned, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for
from evolved_operator.constants import LABEL_VARIANT

pytestmark = pytest.mark.cluster

OWNED_KINDS = ("deployments", "services", "configmaps", "poddisruptionbudgets")


def test_a_pipeline_gets_children_owned_by_it_and_becomes_ready(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("qa", namespace))
    ready = wait_ready(kubectl, "qa", namespace)

    uid = ready["metadata"]["uid"]
    for kind in OWNED_KINDS:
        children = owned(kubectl, kind, "qa", namespace)
        assert children, f"no {kind}"
        for child in children:
            refs = child["metadata"]["ownerReferences"]
            assert [(r["kind"], r["uid"], r.get("controller")) for r in refs] == [("EvolvedPipeline", uid, True)]
    workers = owned(kubectl, "deployments", "qa", namespace, component="worker")
    deployments = {d["metadata"]["labels"][LABEL_VARIANT]: d for d in workers}
    assert set(deployments) == {"stable", "candidate"}
    assert deployments["stable"]["spec"]["replicas"] == 2
    assert {v["name"]: v["readyReplicas"] for v in ready["status"]["variants"]} == {"stable": 2, "candidate": 1}
    assert condition(ready, "Reconciling")["status"] == "False"
    assert condition(ready, "Stalled")["status"] == "False"

    # The user's object is never written by the operator: only the user's field manager owns spec.
    full = kubectl.get("evp", "qa", "-n", namespace, "--show-managed-fields")
    managers = {m["manager"] for m in full["metadata"]["managedFields"] if m.get("subresource") != "status"}
    assert managers == {"gitops"}


def test_a_program_change_rolls_that_variant_only_and_observed_generation_follows(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("roll", namespace))
    before = wait_ready(kubectl, "roll", namespace)
    rs_before = {rs["metadata"]["name"] for rs in kubectl.items("replicasets", "-n", namespace)}
    candidate_before = [
        d for d in owned(kubectl, "deployments", "roll", namespace) if "candidate" in d["metadata"]["name"]
    ]

    apply(kubectl, pipeline("roll", namespace, router=ROUTER_V2))
    after = wait_ready(kubectl, "roll", namespace)

    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert after["status"]["observedGeneration"] == after["metadata"]["generation"]
    rs_after = {rs["metadata"]["name"] for rs in kubectl.items("replicasets", "-n", namespace)}
    new_sets = rs_after - rs_before
    assert len(new_sets) == 1
    assert "stable" in next(iter(new_sets))
    hashes = {v["name"]: v["programHash"] for v in after["status"]["variants"]}
    assert hashes["stable"] != {v["name"]: v["programHash"] for v in before["status"]["variants"]}["stable"]
    candidate_after = [
        d for d in owned(kubectl, "deployments", "roll", namespace) if "candidate" in d["metadata"]["name"]
    ]
    assert candidate_after[0]["metadata"]["resourceVersion"] == candidate_before[0]["metadata"]["resourceVersion"]


def test_autoscaling_settings_become_an_hpa_and_the_deployment_leaves_replicas_to_it(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("scale", namespace, autoscaling=True))
    wait_ready(kubectl, "scale", namespace)
    hpas = owned(kubectl, "horizontalpodautoscalers.autoscaling", "scale", namespace, component="autoscaler")
    assert len(hpas) == 1
    hpa = hpas[0]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    target = kubectl.get("deployment", hpa["spec"]["scaleTargetRef"]["name"], "-n", namespace, "--show-managed-fields")
    managers = [m for m in target["metadata"]["managedFields"] if m["manager"] == "evolved-operator"]
    assert all("f:replicas" not in str(m.get("fieldsV1", {}).get("f:spec", {})) for m in managers)


def test_deleting_a_pipeline_garbage_collects_its_children(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("gone", namespace))
    wait_ready(kubectl, "gone", namespace)
    kubectl.run("delete", "evp", "gone", "-n", namespace)
    wait_for(
        "the children to be garbage-collected",
        lambda: all(not owned(kubectl, kind, "gone", namespace) for kind in OWNED_KINDS),
        timeout=90,
    )


def test_resyncs_write_nothing_when_nothing_changed(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("still", namespace))
    ready = wait_ready(kubectl, "still", namespace)
    versions = {
        (kind, o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for kind in OWNED_KINDS
        for o in owned(kubectl, kind, "still", namespace)
    }
    # Twenty label and annotation changes, as a GitOps tool makes: each is an event the operator sees.
    for i in range(20):
        kubectl.run("label", "evp", "still", "-n", namespace, f"sync={i}", "--overwrite")
        kubectl.run("annotate", "evp", "still", "-n", namespace, f"argocd.argoproj.io/tracking-id=x{i}", "--overwrite")
    marker = f"probe-{uuid.uuid4().hex[:6]}"
    kubectl.run("label", "evp", "still", "-n", namespace, f"last={marker}")
    # The operator has seen the last change once the status it wrote is still the same object version.
    final = wait_for(
        "the operator to have processed the label events",
        lambda: (
            o
            if (o := kubectl.get("evp", "still", "-n", namespace))["metadata"]["labels"].get("last") == marker
            else None
        ),
    )
    assert final["status"] == ready["status"]
    after = {
        (kind, o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for kind in OWNED_KINDS
        for o in owned(kubectl, kind, "still", namespace)
    }
    assert after == versions


def test_a_burst_of_pipelines_posts_each_transition_once(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    """Watch events lag behind the operator's own status writes; a late one must not make it write
    the same status again or post a second Ready event."""
    names = [f"burst{i}" for i in range(8)]
    for name in names:
        apply(kubectl, pipeline(name, namespace))
    for name in names:
        wait_ready(kubectl, name, namespace)
    # A second generation for each: once it is Ready, every event from the first one was handled
    # (a watch delivers one object's events in order).
    for name in names:
        apply(kubectl, pipeline(name, namespace, router=ROUTER_V2))
    for name in names:
        wait_for(
            f"{name} Ready at generation 2",
            lambda name=name: (
                (o := kubectl.get("evp", name, "-n", namespace))["status"].get("observedGeneration") == 2
                and condition(o, "Ready")["status"] == "True"
            ),
            timeout=90,
        )
    events = kubectl.items("events", "-n", namespace, "--field-selector", "involvedObject.kind=EvolvedPipeline")
    for name in names:
        mine = [e for e in events if e["involvedObject"]["name"] == name]
        reasons = [e["reason"] for e in mine for _ in range(e.get("count", 1))]
        story = "; ".join(f"{e['reason']}: {e['message'][:80]}" for e in mine)
        assert reasons.count("ChildrenApplied") == 2, story  # one full reconcile per generation
        assert reasons.count("Ready") == reasons.count("NotReady") + 1, story


def test_kubectl_get_evp_shows_ready_and_the_variants(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("cols", namespace))
    wait_ready(kubectl, "cols", namespace)
    table = kubectl.run("get", "evp", "-n", namespace).stdout.splitlines()
    header = table[0].split()
    assert header[:2] == ["NAME", "READY"]
    assert "AGE" in header
    row = dict(zip(header, table[1].split(), strict=False))
    assert row["NAME"] == "cols"
    assert row["READY"] == "True"


def stalled(kubectl: Kubectl, name: str, namespace: str, reason: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = kubectl.get("evp", name, "-n", namespace)
        cond = condition(obj, "Stalled")
        return obj if cond.get("status") == "True" and cond.get("reason") == reason else None

    return wait_for(f"{name} to be Stalled with {reason}", probe, timeout=60)


def with_configmap_router(name: str, namespace: str, cm: str, sha256: str | None = None) -> dict[str, Any]:
    obj = pipeline(name, namespace)
    ref: dict[str, Any] = {"name": cm, "key": "router.py"}
    if sha256:
        ref["sha256"] = sha256
    obj["spec"]["variants"][0]["programs"] = {"router": {"configMapKeyRef": ref}}
    return obj


def test_a_missing_configmap_stalls_with_the_field_named_and_recovers_when_it_appears(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, with_configmap_router("late", namespace, "router-late"))
    obj = stalled(kubectl, "late", namespace, "ConfigMapNotFound")
    message = condition(obj, "Stalled")["message"]
    assert "spec.variants[0].programs.router.configMapKeyRef" in message
    assert "router-late" in message
    assert condition(obj, "Ready")["status"] == "False"
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert not owned(kubectl, "deployments", "late", namespace)

    kubectl.run("create", "configmap", "router-late", "-n", namespace, f"--from-literal=router.py={ROUTER_V1}")
    wait_ready(kubectl, "late", namespace)


def test_a_sha256_pin_that_does_not_match_stalls_instead_of_rolling_out(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    kubectl.run("create", "configmap", "router-pinned", "-n", namespace, f"--from-literal=router.py={ROUTER_V1}")
    apply(kubectl, with_configmap_router("pinned", namespace, "router-pinned", sha256="0" * 64))
    obj = stalled(kubectl, "pinned", namespace, "ProgramDigestMismatch")
    assert "configMapKeyRef.sha256" in condition(obj, "Stalled")["message"]
    good = hashlib.sha256(ROUTER_V1.encode()).hexdigest()
    apply(kubectl, with_configmap_router("pinned", namespace, "router-pinned", sha256=good))
    wait_ready(kubectl, "pinned", namespace)


def test_a_missing_llm_secret_stalls_and_recovers_when_the_secret_is_created(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    obj = pipeline("keyed", namespace)
    obj["spec"]["llm"] = {
        "baseURL": "http://127.0.0.1:9/v1",
        "model": "m",
        "apiKeySecretRef": {"name": "llm-key", "key": "token"},
    }
    apply(kubectl, obj)
    found = stalled(kubectl, "keyed", namespace, "SecretNotFound")
    assert "spec.llm.apiKeySecretRef" in condition(found, "Stalled")["message"]
    kubectl.run("create", "secret", "generic", "llm-key", "-n", namespace, "--from-literal=token=sk-test")
    ready = wait_ready(kubectl, "keyed", namespace)
    configmaps = owned(kubectl, "configmaps", "keyed", namespace)
    assert all("sk-test" not in json.dumps(cm.get("data", {})) for cm in configmaps)
    assert "sk-test" not in json.dumps(ready["status"])


def test_a_program_that_fails_the_check_stalls_and_names_the_component(
    operator: processes.Background, kubectl: Kubectl, namespace: str
) -> None:
    apply(kubectl, pipeline("broken", namespace, router="def route(prompt, context):\n    return 'tier one'\n"))
    obj = stalled(kubectl, "broken", namespace, "ProgramCheckFailed")
    message = condition(obj, "Stalled")["message"]
    assert "router" in message
    assert not owned(kubectl, "deployments", "broken", namespace)
