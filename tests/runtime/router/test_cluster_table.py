"""The router's table from an EvolvedPipeline and its workers' EndpointSlices (pure translation)."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_runtime.router.cluster_table import endpoints_of, same_routing, table_from_cluster, weights_of
from evolved_runtime.router.table import Mirror, Sticky


def pipeline(
    variants: list[dict[str, Any]], status: list[dict[str, Any]] | None = None, traffic: Any = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "qa"}, "spec": {"variants": variants}}
    if traffic is not None:
        obj["spec"]["traffic"] = traffic
    if status is not None:
        obj["status"] = {"traffic": {"provider": "router", "variants": status}}
    return obj


def slice_of(
    variant: str, endpoints: list[tuple[list[str], bool | None]], port: int = 8080, name: str = ""
) -> dict[str, Any]:
    return {
        "metadata": {"name": name or f"qa-{variant}-x", "labels": {"pipelines.evolved.io/variant": variant}},
        "ports": [{"name": "metrics", "port": 9090}, {"name": "http", "port": port}],
        "endpoints": [
            {"addresses": addresses, **({} if ready is None else {"conditions": {"ready": ready}})}
            for addresses, ready in endpoints
        ],
    }


STABLE = {"name": "stable", "role": "stable"}
CANARY = {"name": "canary", "role": "candidate"}

WEIGHTS = {
    "status.traffic decides, in its order": (
        pipeline([{**STABLE, "weight": 50}, {**CANARY, "weight": 50}], [{"name": "canary", "weight": 10},
                 {"name": "stable", "weight": 90}]),
        [("canary", 10), ("stable", 90)],
    ),
    "without status.traffic the spec's weights count": (
        pipeline([{**STABLE, "weight": 80}, {**CANARY, "weight": 20}]), [("stable", 80), ("canary", 20)]),
    "without any weight the stable variant takes 100": (pipeline([CANARY, STABLE]), [("canary", 0), ("stable", 100)]),
    "a spec variant the status does not name follows with 0": (
        pipeline([STABLE, CANARY, {"name": "shadow", "role": "candidate"}], [{"name": "stable", "weight": 100}]),
        [("stable", 100), ("canary", 0), ("shadow", 0)],
    ),
    "an empty status.traffic list falls back to the spec": (pipeline([STABLE, CANARY], []), [("stable", 100), ("canary", 0)]),
}  # fmt: skip


@pytest.mark.parametrize(("obj", "expected"), list(WEIGHTS.values()), ids=list(WEIGHTS))
def test_weights_come_from_status_then_spec_then_the_stable_role(obj: dict[str, Any], expected: list[Any]) -> None:
    assert weights_of(obj) == expected


def test_ready_endpoints_with_the_http_port_make_each_variants_endpoints() -> None:
    slices = [
        slice_of("stable", [(["10.0.0.2"], True), (["10.0.0.1"], None), (["10.0.0.3"], False)], name="a"),
        slice_of("stable", [(["10.0.0.4"], True)], name="b"),
        slice_of("canary", [(["10.0.1.1"], True)], port=8081),
        {"metadata": {"name": "no-port", "labels": {"pipelines.evolved.io/variant": "x"}}, "endpoints": []},
        {"metadata": {"name": "no-label"}, "ports": [{"name": "http", "port": 1}], "endpoints": [{"addresses": ["h"]}]},
    ]
    assert endpoints_of(slices) == {
        "stable": [("10.0.0.1", 8080), ("10.0.0.2", 8080), ("10.0.0.4", 8080)],
        "canary": [("10.0.1.1", 8081)],
    }


def test_a_pipeline_and_its_slices_make_the_routers_table() -> None:
    obj = pipeline(
        [STABLE, CANARY],
        [{"name": "stable", "weight": 90}, {"name": "canary", "weight": 10}],
        {
            "provider": "router",
            "sticky": {"header": "X-User", "openAIUser": True},
            "mirror": {"variant": "canary", "percent": 25},
        },
    )
    table = table_from_cluster(obj, [slice_of("stable", [(["10.0.0.1"], True)]), slice_of("canary", [])], now=5.0)
    assert [(v.name, v.weight, v.endpoints) for v in table.variants] == [
        ("stable", 90, (("10.0.0.1", 8080),)),
        ("canary", 10, ()),
    ]
    assert table.sticky == Sticky("x-user", True)
    assert table.mirror == Mirror("canary", 25)
    assert (table.source, table.updated_at, table.weights_text()) == ("kubernetes", 5.0, "stable=90,canary=10")


def test_no_pipeline_means_no_variant_and_a_mirror_of_an_unknown_variant_is_ignored() -> None:
    assert table_from_cluster(None, [], 1.0).variants == ()
    obj = pipeline([STABLE], traffic={"mirror": {"variant": "gone", "percent": 5}})
    assert table_from_cluster(obj, [], 1.0).mirror is None
    assert table_from_cluster(pipeline([STABLE]), [], 1.0).sticky == Sticky()


def test_tables_that_differ_only_in_time_route_alike() -> None:
    obj = pipeline([STABLE, CANARY])
    assert same_routing(table_from_cluster(obj, [], 1.0), table_from_cluster(obj, [], 2.0))
    moved = pipeline([{**STABLE, "weight": 50}, {**CANARY, "weight": 50}])
    assert not same_routing(table_from_cluster(obj, [], 1.0), table_from_cluster(moved, [], 1.0))
