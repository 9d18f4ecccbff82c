"""The traffic providers' objects: the router's Deployment and access, the HTTPRoute."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.desired import render_children
from evolved_operator.render import PipelineInput
from tests.operator.specs import two_variants

GATEWAY = {
    "provider": "gatewayAPI",
    "gatewayAPI": {"parentRefs": [{"name": "edge", "namespace": "infra"}], "hostnames": ["qa.example.com"]},
}
Objects = dict[tuple[str, str], Any]


def objects(traffic: dict[str, Any] | None = None, ready: dict[str, int] | None = None, **weights: int) -> Objects:
    spec = EvolvedPipelineSpec.model_validate(two_variants(traffic, **weights))
    rendered = render_children(PipelineInput("qa", "ns", "uid-1", 1, spec), ready)
    return {(o["kind"], o["metadata"]["name"]): o for o in rendered}


def test_the_router_runs_the_shared_image_as_its_own_service_account() -> None:
    pod = objects()[("Deployment", "qa-router")]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"][:2] == ["evolved-runtime", "router"]
    assert container["image"] == "evolved-pipelines/runtime:0.1.0"
    assert {"name": "EVOLVED_PIPELINE", "value": "qa"} in container["env"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["resources"]["requests"]["cpu"]  # the HPA's CPU target needs a request
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["serviceAccountName"] == "qa-router"


def test_the_routers_role_reads_its_pipeline_and_endpoint_slices_and_writes_only_its_lease() -> None:
    rules = objects()[("Role", "qa-router")]["rules"]
    assert rules == [
        {
            "apiGroups": ["pipelines.evolved.io"],
            "resources": ["evolvedpipelines"],
            "verbs": ["get", "list", "watch"],
            "resourceNames": ["qa"],
        },
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "update", "patch"],
            "resourceNames": ["qa-router"],
        },
    ]
    binding = objects()[("RoleBinding", "qa-router")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "qa-router", "namespace": "ns"}]
    assert binding["roleRef"]["name"] == "qa-router"


@pytest.mark.parametrize(
    ("router", "hpa", "replicas", "budget"),
    [
        (None, (2, 10), None, True),
        ({"replicas": 1}, None, 1, False),
        ({"replicas": 3}, None, 3, True),
        ({"minReplicas": 1, "maxReplicas": 1}, (1, 1), None, False),
        ({"minReplicas": 4}, (4, 10), None, True),
    ],
)
def test_router_replicas_autoscaling_and_budget(
    router: dict[str, Any] | None, hpa: tuple[int, int] | None, replicas: int | None, budget: bool
) -> None:
    objs = objects({"router": router} if router else None)
    found = objs.get(("HorizontalPodAutoscaler", "qa-router"))
    assert (None if found is None else (found["spec"]["minReplicas"], found["spec"]["maxReplicas"])) == hpa
    assert objs[("Deployment", "qa-router")]["spec"].get("replicas") == replicas
    assert (("PodDisruptionBudget", "qa-router") in objs) is budget


def test_the_http_route_writes_out_every_field_the_apiserver_would_default() -> None:
    route = objects(GATEWAY, stable=90, canary=10)[("HTTPRoute", "qa")]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"] == {
        "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge", "namespace": "infra"}],
        "hostnames": ["qa.example.com"],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [
                    {"group": "", "kind": "Service", "name": "qa-stable", "port": 80, "weight": 90},
                    {"group": "", "kind": "Service", "name": "qa-canary", "port": 80, "weight": 10},
                ],
            }
        ],
    }


def test_without_weights_the_route_sends_everything_to_stable_and_keeps_the_others_at_0() -> None:
    backends = objects(GATEWAY)[("HTTPRoute", "qa")]["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["weight"]) for b in backends] == [("qa-stable", 100), ("qa-canary", 0)]


def test_the_route_mirrors_only_while_the_mirror_variant_has_a_ready_pod() -> None:
    traffic = GATEWAY | {"mirror": {"variant": "canary", "percent": 25}}
    rule = objects(traffic, {"stable": 1, "canary": 1})[("HTTPRoute", "qa")]["spec"]["rules"][0]
    assert rule["filters"] == [
        {
            "type": "RequestMirror",
            "requestMirror": {
                "backendRef": {"group": "", "kind": "Service", "name": "qa-canary", "port": 80},
                "percent": 25,
            },
        }
    ]
    paused = objects(traffic, {"stable": 1})[("HTTPRoute", "qa")]["spec"]["rules"][0]
    assert "filters" not in paused


def test_gateway_api_has_no_entry_service_and_no_router() -> None:
    kinds = {key for key in objects(GATEWAY) if key[1] in ("qa", "qa-router")}
    assert kinds == {("HTTPRoute", "qa")}
