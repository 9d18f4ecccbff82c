"""GitOps on the real control plane, with the operator holding nothing but the chart's identity.

A module-wide operator runs as a local process whose kubeconfig carries a token of the chart's
ServiceAccount (installed by helm, cluster-wide RBAC). Pipelines live in namespaces labelled
``pod-security.kubernetes.io/enforce=restricted``. Each test drives pipelines into rollout states,
captures the objects the operator produced, and asks Argo CD's Lua runtime (the chart's health
check) and Flux's kstatus (``tools/gitops-health``) what they make of them. The drift test applies
the examples as a GitOps tool would and finds nothing to sync after a full rollout.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import gateway_api, gitops, helm, operator_proc, processes
from e2e.evp import condition, owned, pipeline
from e2e.kube import Kubectl, wait_for
from tests.cluster.test_rollout import canary, plugin, reasons, wait_phase

pytestmark = pytest.mark.cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


SPACES = 5  # restricted namespaces, one per test: the operator watches only these


@pytest.fixture(scope="module")
def spaces(kubectl: Kubectl) -> Iterator[list[str]]:
    """Namespaces labelled restricted. The operator of this module watches only them: the cluster
    is shared, and another operator's pipelines are not ours to reconcile."""
    names = [helm.restricted_namespace(kubectl) for _ in range(SPACES)]
    yield names
    for name in names:
        kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def chart_operator(
    kubeconfig: str, kubectl: Kubectl, spaces: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[processes.Background]:
    operator_proc.install_crd(kubectl)
    gateway_api.install_crds(kubectl)
    home = f"t-{uuid.uuid4().hex[:10]}"
    kubectl.run("create", "namespace", home)
    folder = tmp_path_factory.mktemp("chart-operator")
    try:
        with helm.installed(kubeconfig, home) as release:
            config = helm.token_kubeconfig(kubectl, release, folder / "kubeconfig")
            watch = [a for name in spaces for a in ("--namespace", name)]
            with helm.operator_as(config, folder / "operator.log", *watch) as proc:
                wait_for("the operator to start", lambda: "primed the cache" in proc.log_tail(400), timeout=90)
                yield proc
                log = proc.log_path.read_text(errors="replace").splitlines()
                refused = [line for line in log if release.user in line]
                assert not refused, f"the chart's RBAC refused requests: {refused[:3]}"
    finally:
        kubectl.run("delete", "namespace", home, "--wait=false", check=False)


@pytest.fixture
def restricted(spaces: list[str], chart_operator: processes.Background) -> str:
    """A namespace of this test's own (restricted), one of those the operator watches."""
    used = [s for s in spaces if s in _handed_out]
    assert len(used) < SPACES, f"more tests than SPACES={SPACES} namespaces"
    free = next(s for s in spaces if s not in _handed_out)
    _handed_out.add(free)
    return free


_handed_out: set[str] = set()


def gitops_apply(kubectl: Kubectl, objects: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump_all(objects)
    kubectl.run("apply", "--server-side", "--field-manager=gitops", "-f", "-", stdin=text)


def captured(kubectl: Kubectl, name: str, namespace: str, probe: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    def seen() -> dict[str, Any] | None:
        obj = kubectl.get("evp", name, "-n", namespace)
        return obj if obj and obj.get("status") and probe(obj) else None  # no status: not visited yet

    try:
        return wait_for(f"{name} in the state asked for", seen, timeout=90)
    except AssertionError as exc:
        events = kubectl.items("events", "-n", namespace)
        said = "\n".join(f"{e['involvedObject']['name']}: {e['reason']}: {e.get('message', '')}" for e in events)
        last = (kubectl.get("evp", name, "-n", namespace) or {}).get("status")
        raise AssertionError(f"{exc}\nlast status: {json.dumps(last)}\nevents in {namespace}:\n{said}") from None


def current(obj: dict[str, Any]) -> bool:
    """The operator has handled the object's latest generation."""
    return bool(obj["status"].get("observedGeneration") == obj["metadata"]["generation"])


def completed(weights: str) -> Callable[[dict[str, Any]], bool]:
    """The rollout completed and traffic is back on the stable variant."""
    return lambda o: (
        o["status"].get("rollout", {}).get("phase") == "Completed"
        and o["status"]["traffic"]["weights"] == weights
        and current(o)
    )


def judged(obj: dict[str, Any], tmp: Path, label: str) -> tuple[dict[str, str], dict[str, str]]:
    """(Argo CD's verdict, kstatus' verdict) on one object the operator produced; the object is
    kept beside the test's logs."""
    (tmp / f"{label}.json").write_text(json.dumps(obj, indent=1))
    return gitops.argocd([obj])[0], gitops.kstatus([obj])[0]


def pods_admitted(kubectl: Kubectl, name: str, namespace: str) -> None:
    refused = kubectl.items("events", "-n", namespace, "--field-selector", "reason=FailedCreate")
    assert not refused, [e["message"] for e in refused]
    for component in ("worker", "router"):
        assert owned(kubectl, "pods", name, namespace, component), f"no {component} pod of {name}"


def test_a_canary_is_promoted_by_the_operator_with_the_charts_identity_healthy_and_suspended_on_the_way(
    chart_operator: processes.Background, kubeconfig: str, kubectl: Kubectl, restricted: str, tmp_path: Path
) -> None:
    gitops_apply(kubectl, [canary("cnr", restricted)])
    paused = captured(
        kubectl,
        "cnr",
        restricted,
        lambda o: o["status"].get("rollout", {}).get("phase") == "Paused" and condition(o, "Ready")["status"] == "True",
    )
    assert judged(paused, tmp_path, "paused") == (
        {"status": "Suspended", "message": "rollout paused: paused at step 1 until promoted"},
        {"status": "Current", "message": "Resource is Ready"},
    )
    pods_admitted(kubectl, "cnr", restricted)
    assert plugin(kubeconfig, "promote", "cnr", "-n", restricted).returncode == 0
    done = captured(
        kubectl,
        "cnr",
        restricted,
        lambda o: completed("stable=100,candidate=0")(o) and condition(o, "Ready")["status"] == "True",
    )
    assert judged(done, tmp_path, "completed")[0]["status"] == "Healthy"
    assert judged(done, tmp_path, "completed")[1]["status"] == "Current"
    assert {"RolloutStarted", "Paused", "Promoting", "Promoted"} <= set(reasons(kubectl, "cnr", restricted))
    pods_admitted(kubectl, "cnr", restricted)


def test_an_abort_is_degraded_for_argo_cd_and_failed_for_kstatus(
    chart_operator: processes.Background, kubeconfig: str, kubectl: Kubectl, restricted: str, tmp_path: Path
) -> None:
    gitops_apply(kubectl, [canary("abt", restricted)])
    wait_phase(kubectl, "abt", restricted, "Paused", timeout=90)
    assert plugin(kubeconfig, "abort", "abt", "-n", restricted).returncode == 0
    rolled = captured(
        kubectl,
        "abt",
        restricted,
        lambda o: (
            o["status"].get("rollout", {}).get("phase") == "RolledBack"
            and condition(o, "Stalled").get("reason") == "RolloutAborted"
            and current(o)
        ),
    )
    argo, flux = judged(rolled, tmp_path, "rolled-back")
    assert argo["status"] == "Degraded"
    assert argo["message"].startswith("RolloutAborted: ")
    assert flux["status"] == "Failed"


def test_a_rollout_waiting_for_capacity_is_progressing_then_degraded_at_its_deadline(
    chart_operator: processes.Background, kubectl: Kubectl, restricted: str, tmp_path: Path
) -> None:
    """The candidate's pods cannot be scheduled (more CPU than a node has), so the first step never
    gets its capacity: Progressing while within progressDeadlineSeconds, then stalled."""
    obj = canary("late", restricted, steps=[{"setWeight": 50}], progressDeadlineSeconds=30)
    obj["spec"]["variants"][1]["resources"] = {"requests": {"cpu": "64"}}
    gitops_apply(kubectl, [obj])
    waiting = captured(
        kubectl,
        "late",
        restricted,
        lambda o: o["status"].get("rollout", {}).get("phase") == "Progressing" and current(o),
    )
    argo, flux = judged(waiting, tmp_path, "progressing")
    assert (argo["status"], flux["status"]) == ("Progressing", "InProgress"), (argo, flux)
    stalled = captured(
        kubectl, "late", restricted, lambda o: condition(o, "Stalled").get("reason") == "ProgressDeadlineExceeded"
    )
    argo, flux = judged(stalled, tmp_path, "deadline")
    assert argo["status"] == "Degraded"
    assert argo["message"].startswith("ProgressDeadlineExceeded: ")
    assert flux["status"] == "Failed"


def test_a_route_its_gateway_refuses_is_degraded_for_argo_cd_and_failed_for_kstatus(
    chart_operator: processes.Background, kubectl: Kubectl, restricted: str, tmp_path: Path
) -> None:
    """Provider gatewayAPI; the gateway's verdict on the route is written here as a gateway controller
    writes it (the route's status), the pipeline's conditions are the real operator's."""
    obj = pipeline("routed", restricted)
    obj["spec"]["traffic"] = {"provider": "gatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "edge"}]}}
    gitops_apply(kubectl, [obj])
    route = wait_for("the HTTPRoute", lambda: kubectl.get("httproute", "routed", "-n", restricted), timeout=60)
    refusal = {
        "status": {
            "parents": [
                {
                    "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge"},
                    "controllerName": "example.com/gateway-controller",
                    "conditions": [
                        {
                            "type": "Accepted",
                            "status": "False",
                            "reason": "NotAllowedByListeners",
                            "message": "no listener allows kind HTTPRoute",
                            "observedGeneration": route["metadata"]["generation"],
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ],
                }
            ]
        }
    }
    kubectl.run(
        "patch", "httproute", "routed", "-n", restricted, "--subresource=status", "--type=merge", "-p",
        json.dumps(refusal),
    )  # fmt: skip
    refused = captured(
        kubectl, "routed", restricted, lambda o: condition(o, "Stalled").get("reason") == "RouteNotAccepted"
    )
    argo, flux = judged(refused, tmp_path, "route-refused")
    assert argo == {
        "status": "Degraded",
        "message": "RouteNotAccepted: Gateway/edge on HTTPRoute/routed: NotAllowedByListeners: no listener allows kind HTTPRoute",
    }
    assert flux["status"] == "Failed"


def example(name: str, namespace: str) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
    return docs


def test_after_a_full_rollout_nothing_the_user_applied_has_drifted(
    chart_operator: processes.Background, kubectl: Kubectl, restricted: str, tmp_path: Path
) -> None:
    """The examples applied as a GitOps tool applies them (server-side, its own field manager); the
    experiment turned into a canary that pauses, promoted from Git (``promote: true`` applied the
    same way); after the rollout, ``kubectl diff`` finds nothing to sync in anything applied."""
    quickstart = example("quickstart.yaml", restricted)
    experiment = example("ab-experiment.yaml", restricted)
    evp = experiment[-1]
    evp["spec"]["strategy"] = {"type": "Canary", "steps": [{"setWeight": 20}, {"pause": {}}]}
    for variant in evp["spec"]["variants"]:
        variant.pop("weight")
    gitops_apply(kubectl, quickstart + experiment)
    ready = captured(
        kubectl,
        "quickstart",
        restricted,
        lambda o: condition(o, "Ready").get("status") == "True" and current(o),
    )
    argo, flux = judged(ready, tmp_path, "ready")
    assert (argo["status"], flux["status"]) == ("Healthy", "Current")
    captured(kubectl, "ab-experiment", restricted, lambda o: o["status"].get("rollout", {}).get("phase") == "Paused")
    evp["spec"]["strategy"]["promote"] = True  # the promotion, committed to Git and synced
    gitops_apply(kubectl, [evp])
    done = captured(kubectl, "ab-experiment", restricted, completed("baseline=100,gen42=0"))
    variants = {v["name"]: v for v in done["status"]["variants"]}
    assert variants["baseline"]["programHash"] == variants["gen42"]["programHash"], "the candidate was promoted"
    applied = yaml.safe_dump_all(quickstart + experiment)
    diff = kubectl.run("diff", "--server-side", "--field-manager=gitops", "-f", "-", stdin=applied, check=False)
    assert diff.returncode == 0, f"drift after the rollout:\n{diff.stdout}{diff.stderr}"
    assert diff.stdout == ""
