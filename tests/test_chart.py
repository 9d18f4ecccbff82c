"""The operator's Helm chart, rendered by the real helm: RBAC derived from the registry of child
kinds (and enough to grant the router its Role), CRDs identical to crds/, the generated files
fresh, values checked by values.schema.json, a restricted, single, Recreate-d operator pod."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import chart, toolchain
from evolved_operator.children import CHILD_KINDS, ROUTER_RULES
from evolved_operator.constants import GROUP, PLURAL


@pytest.fixture(scope="module", autouse=True)
def helm_built() -> None:
    if not all(toolchain.is_built(t) for t in toolchain.targets() if t.name == "helm"):
        if os.environ.get("EVOLVED_REQUIRE_CLUSTER", "") not in ("", "0", "false"):
            pytest.fail("helm is not built (python -m e2e.toolchain helm)")
        pytest.skip("helm is not built: python -m e2e.toolchain helm")


def rendered(*args: str) -> list[dict[str, Any]]:
    return chart.documents(chart.template(*args))


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found


def test_the_charts_crds_are_the_generated_crds_byte_for_byte() -> None:
    ours = sorted(p.name for p in chart.CRDS.glob("*.yaml"))
    shipped = sorted(p.name for p in (chart.CHART / "crds").glob("*.yaml"))
    assert shipped == ours
    for name in ours:
        assert (chart.CHART / "crds" / name).read_bytes() == (chart.CRDS / name).read_bytes(), (
            f"charts/evolved-operator/crds/{name} is stale: run `make chart`"
        )


def test_the_generated_rules_and_the_plain_manifests_are_fresh() -> None:
    assert chart.RULES_TEMPLATE.read_text() == chart.rules_template(), "stale _rules.tpl: run `make chart`"
    assert chart.MANIFESTS.read_text() == chart.manifests(), "stale deploy/evolved-operator.yaml: run `make chart`"


def test_the_cluster_role_is_the_rules_derived_from_the_child_kinds() -> None:
    role = one(rendered(), "ClusterRole")
    assert role["rules"] == chart.operator_rules()
    binding = one(rendered(), "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "evolved-operator", "namespace": "evolved-system"}
    ]


def test_every_child_kind_can_be_applied_watched_and_deleted() -> None:
    rules = chart.operator_rules()
    for child in CHILD_KINDS:
        for verb in ("list", "watch", "create", "patch", "delete"):
            assert chart.covers(rules, child.group, child.plural, verb), (child.kind, verb)


def test_the_operator_holds_every_permission_it_grants_the_router() -> None:
    """RBAC escalation prevention: a Role can only grant what its writer holds."""
    rules = chart.operator_rules()
    for group, resource, verbs in ROUTER_RULES:
        for verb in verbs:
            assert chart.covers(rules, group, resource, verb), (group, resource, verb)


def test_nothing_more_than_needed() -> None:
    rules = chart.operator_rules()
    assert not any("*" in r["verbs"] or "*" in r["resources"] or "*" in r["apiGroups"] for r in rules)
    assert not any({"escalate", "bind", "impersonate"} & set(r["verbs"]) for r in rules)
    for verb in ("list", "watch", "create", "patch", "update", "delete"):
        assert not chart.covers(rules, "", "secrets", verb), f"secrets {verb}"
    for verb in ("create", "update", "patch", "delete"):
        assert not chart.covers(rules, GROUP, PLURAL, verb), f"the operator never writes a spec ({verb})"
    for group, resource in (("", "pods"), ("", "namespaces"), ("apiextensions.k8s.io", "customresourcedefinitions")):
        assert not chart.covers(rules, group, resource, "list"), resource
    assert not any(r["apiGroups"] == ["kopf.dev"] for r in rules), "standalone: no peering objects"


def test_listed_namespaces_get_roles_and_no_cluster_wide_access() -> None:
    docs = rendered("--set", "watchNamespaces={team-a,team-b}")
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    roles = [d for d in docs if d["kind"] == "Role"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
    assert all(r["rules"] == chart.operator_rules() for r in roles)
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    args = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-4:] == ["--namespace", "team-a", "--namespace", "team-b"]


def test_secrets_can_be_left_out() -> None:
    role = one(rendered("--set", "rbac.readSecrets=false"), "ClusterRole")
    assert not any("secrets" in r["resources"] for r in role["rules"])
    assert len(role["rules"]) == len(chart.operator_rules()) - 1


def test_one_restricted_operator_pod_replaced_not_rolled() -> None:
    deployment = one(rendered(), "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == [
        "evolved-operator",
        "run",
        "--metrics-port",
        "8080",
        "--liveness",
        "http://0.0.0.0:8081/healthz",
        "--all-namespaces",
    ]
    assert container["image"] == "evolved-pipelines/runtime:0.1.0"
    assert pod["serviceAccountName"] == "evolved-operator"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "192Mi"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_the_metrics_service_selects_the_operator_pod() -> None:
    docs = rendered()
    service = one(docs, "Service")
    labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}]


def test_optional_objects_are_off_by_default_and_render_when_asked() -> None:
    optional = {"ServiceMonitor", "PrometheusRule", "NetworkPolicy"}
    assert not optional & {d["kind"] for d in rendered()}
    assert [d["kind"] for d in rendered()].count("ConfigMap") == 0
    docs = rendered(
        "--set",
        "metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,networkPolicy.enabled=true",
        "--set",
        "grafana.dashboard.enabled=true,argocd.healthCheck.enabled=true",
    )
    assert optional <= {d["kind"] for d in docs}
    maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    lua = (chart.CHART / "files" / "argocd-health.lua").read_text()
    key = "resource.customizations.health.pipelines.evolved.io_EvolvedPipeline"
    assert maps["evolved-operator-argocd-health"][key] == lua
    assert "evolved-pipelines.json" in maps["evolved-operator-dashboard"]


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("watchNamespaces=team-a", "want array"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("metrics.port=0", "minimum"),
        ("replicas=2", "additional properties 'replicas' not allowed"),
    ],
)
def test_values_outside_the_schema_are_refused(setting: str, complaint: str) -> None:
    with pytest.raises(AssertionError, match=complaint):
        chart.template("--set", setting)


def test_the_chart_has_what_helm_needs() -> None:
    for name in ("Chart.yaml", "values.yaml", "values.schema.json", "templates/NOTES.txt"):
        assert Path(chart.CHART / name).is_file(), name


def test_the_argocd_cm_snippet_in_the_docs_is_the_charts_health_check() -> None:
    text = (chart.ROOT / "docs" / "install.md").read_text()
    key = "resource.customizations.health.pipelines.evolved.io_EvolvedPipeline"
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    (snippet,) = [yaml.safe_load(b) for b in blocks if key in b]
    assert snippet["data"][key] == (chart.CHART / "files" / "argocd-health.lua").read_text()
