"""The chart on the real control plane: helm lint, the rendered objects accepted by the apiserver
(dry run), install and upgrade, the ServiceAccount's access as the apiserver's authorizer answers
it (what it must do, and what it must not), the operator pod admitted under the restricted Pod
Security Standard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e import chart, helm
from e2e.kube import Kubectl, wait_for

pytestmark = pytest.mark.cluster


@pytest.fixture
def restricted_namespace(kubectl: Kubectl) -> Iterator[str]:
    name = helm.restricted_namespace(kubectl)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def test_helm_lint_passes_with_every_option_on() -> None:
    for values in ([], ["--set", "watchNamespaces={a,b},networkPolicy.enabled=true,grafana.dashboard.enabled=true"]):
        proc = helm.helm("/dev/null", "lint", "--strict", str(chart.CHART), *values)
        assert "0 chart(s) failed" in proc.stdout, proc.stdout


def test_the_apiserver_accepts_every_rendered_object(kubectl: Kubectl, namespace: str) -> None:
    """Server-side dry run: schemas, RBAC objects, the Deployment; the monitoring objects are left
    out (they need the Prometheus Operator's CRDs)."""
    rendered = chart.template(
        "--namespace", namespace, "--set", "networkPolicy.enabled=true,grafana.dashboard.enabled=true"
    ).replace("namespace: evolved-system", f"namespace: {namespace}")
    proc = kubectl.run("apply", "--dry-run=server", "-f", "-", stdin=rendered, check=False)
    assert proc.returncode == 0, proc.stderr
    for kind in ("serviceaccount", "clusterrole.rbac", "deployment.apps", "service", "networkpolicy", "configmap"):
        assert kind in proc.stdout, proc.stdout


def test_install_then_upgrade_with_the_operator_pod_admitted_as_restricted(
    kubeconfig: str, kubectl: Kubectl, restricted_namespace: str
) -> None:
    with helm.installed(kubeconfig, restricted_namespace) as release:
        deployment = f"{release.name}-evolved-operator"
        ready = wait_for(
            "the operator pod admitted and ready",
            lambda: (
                (kubectl.get("deployment", deployment, "-n", release.namespace) or {})
                .get("status", {})
                .get("readyReplicas")
            ),
            timeout=60,
        )
        assert ready == 1
        helm.install(kubeconfig, release, "extraArgs={--verbose}", "resources.requests.cpu=200m", upgrade=True)
        status = helm.helm(kubeconfig, "status", release.name, "-n", release.namespace, "-o", "json").stdout
        assert '"version":2' in status.replace(" ", "")
        upgraded = kubectl.get("deployment", deployment, "-n", release.namespace)
        container = upgraded["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][-1] == "--verbose"
        assert container["resources"]["requests"]["cpu"] == "200m"
        wait_for(
            "the upgraded pod ready (Recreate: never two at once)",
            lambda: (
                (d := kubectl.get("deployment", deployment, "-n", release.namespace))["status"].get("updatedReplicas")
                == 1
                and d["status"].get("readyReplicas") == 1
            ),
            timeout=60,
        )
        events = kubectl.items("events", "-n", release.namespace, "--field-selector", "reason=FailedCreate")
        assert not events, [e["message"] for e in events]


def test_the_service_account_may_do_its_work_and_nothing_else(
    kubeconfig: str, kubectl: Kubectl, namespace: str
) -> None:
    with helm.installed(kubeconfig, namespace) as release:
        elsewhere = ("-n", "kube-system")
        allowed = [
            ("watch", "evolvedpipelines.pipelines.evolved.io", "-A"),
            ("patch", "evolvedpipelines.pipelines.evolved.io/x", "--subresource=status", *elsewhere),
            ("create", "deployments.apps", *elsewhere),
            ("patch", "roles.rbac.authorization.k8s.io", *elsewhere),
            ("update", "leases.coordination.k8s.io", *elsewhere),
            ("list", "endpointslices.discovery.k8s.io", *elsewhere),
            ("get", "secrets", *elsewhere),
            ("create", "events", *elsewhere),
        ]
        refused = [
            ("list", "secrets", *elsewhere),
            ("watch", "secrets", "-A"),
            ("patch", "evolvedpipelines.pipelines.evolved.io", *elsewhere),
            ("delete", "evolvedpipelines.pipelines.evolved.io", *elsewhere),
            ("create", "pods", *elsewhere),
            ("create", "statefulsets.apps", *elsewhere),
            ("create", "daemonsets.apps", *elsewhere),
            ("create", "clusterroles.rbac.authorization.k8s.io"),
            ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
            ("escalate", "roles.rbac.authorization.k8s.io", *elsewhere),
            ("bind", "roles.rbac.authorization.k8s.io", *elsewhere),
            ("list", "nodes"),
            ("create", "namespaces"),
            ("patch", "customresourcedefinitions.apiextensions.k8s.io"),
            ("impersonate", "serviceaccounts", *elsewhere),
        ]
        assert [a for a in allowed if not helm.can(kubectl, release, *a)] == []
        assert [r for r in refused if helm.can(kubectl, release, *r)] == []


def test_watch_namespaces_confine_the_service_account_to_them(
    kubeconfig: str, kubectl: Kubectl, namespace: str
) -> None:
    other = f"t-{uuid.uuid4().hex[:10]}"
    kubectl.run("create", "namespace", other)
    try:
        with helm.installed(kubeconfig, namespace, f"watchNamespaces={{{namespace}}}") as release:
            assert not kubectl.get("clusterrole", f"{release.name}-evolved-operator")
            assert helm.can(kubectl, release, "get", "secrets", "-n", namespace)
            assert helm.can(kubectl, release, "create", "deployments.apps", "-n", namespace)
            assert not helm.can(kubectl, release, "get", "secrets", "-n", other)
            assert not helm.can(kubectl, release, "create", "deployments.apps", "-n", other)
            assert not helm.can(kubectl, release, "list", "evolvedpipelines.pipelines.evolved.io", "-A")
    finally:
        kubectl.run("delete", "namespace", other, "--wait=false", check=False)


def test_the_operator_starts_with_the_roles_of_watch_namespaces_alone(
    kubeconfig: str, kubectl: Kubectl, tmp_path: Path
) -> None:
    watched = helm.restricted_namespace(kubectl)
    try:
        with helm.installed(kubeconfig, watched, f"watchNamespaces={{{watched}}}") as release:
            config = helm.token_kubeconfig(kubectl, release, tmp_path / "kubeconfig")
            with helm.operator_as(config, tmp_path / "operator.log", "--namespace", watched) as proc:
                outcome = wait_for(
                    "the operator to start or be refused",
                    lambda: (
                        ("started" if "primed the cache" in (tail := proc.log_tail(400)) else None)
                        or ("refused" if release.user in tail else None)
                    ),
                    timeout=90,
                )
                assert outcome == "started", proc.log_tail(5)
    finally:
        kubectl.run("delete", "namespace", watched, "--wait=false", check=False)


def test_the_plain_manifests_apply_as_the_docs_say(kubectl: Kubectl) -> None:
    """docs/install.md, "Without Helm": the file as shipped, then the image set by kubectl."""
    ours = [("namespace", chart.NAMESPACE), ("clusterrole", chart.RELEASE), ("clusterrolebinding", chart.RELEASE)]
    wait_for("a previous run's objects to be gone", lambda: not any(kubectl.get(*o) for o in ours), timeout=90)
    try:
        applied = kubectl.run("apply", "--server-side", "-f", str(chart.MANIFESTS), check=False)
        assert applied.returncode == 0, applied.stderr
        image = "registry.example.com/evolved-pipelines/runtime:0.1.0"
        kubectl.run("-n", chart.NAMESPACE, "set", "image", "deployment/evolved-operator", f"operator={image}")
        rollout = kubectl.run(
            "-n", chart.NAMESPACE, "rollout", "status", "deployment/evolved-operator", "--timeout=90s", check=False
        )
        assert rollout.returncode == 0, rollout.stderr
        pod = kubectl.items("pods", "-n", chart.NAMESPACE, "-l", "app.kubernetes.io/name=evolved-operator")
        assert [p["spec"]["containers"][0]["image"] for p in pod if not p["metadata"].get("deletionTimestamp")] == [
            image
        ]
    finally:
        for kind, name in reversed(ours):  # not the CRD: every test shares it
            kubectl.run("delete", kind, name, "--wait=false", "--ignore-not-found", check=False)
