"""The pure parts of the tests' Gateway API data plane: address checks, objects, Traefik's flags."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from e2e import gateway_api, netns, traefik

HOST = [ipaddress.IPv4Network("192.0.2.0/24"), ipaddress.IPv4Network("127.0.0.0/8")]


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("10.0.0.5", None),
        ("10.244.3.7", None),
        ("192.0.2.7", "collides with 192.0.2.0/24"),
        ("8.8.8.8", "not private-range"),
        ("127.0.0.2", "loopback"),
        ("169.254.1.1", "link-local"),
        ("fd00::5", "only IPv4"),
    ],
    ids=[
        "a KWOK pod IP is taken",
        "another private pod CIDR is taken",
        "an address on the host's own network is refused",
        "a public address is refused",
        "loopback is refused",
        "link-local (the host ends of the pairs) is refused",
        "IPv6 is refused",
    ],
)
def test_a_namespace_takes_only_a_private_address_that_nothing_here_uses(address: str, refusal: str | None) -> None:
    if refusal is None:
        assert str(netns.check_address(address, HOST)) == address
    else:
        with pytest.raises(netns.NetnsError, match=refusal):
            netns.check_address(address, HOST)


def test_an_address_another_namespace_already_routes_is_refused() -> None:
    with pytest.raises(netns.NetnsError, match=r"collides with 10\.0\.1\.2/32"):
        netns.check_address("10.0.1.2", [*HOST, ipaddress.IPv4Network("10.0.1.2/32")])


def test_each_pod_address_gets_its_own_link_local_host_end() -> None:
    ends = {netns._host_end_address(ipaddress.IPv4Address(a)) for a in ("10.0.0.1", "10.0.1.1", "10.0.2.1")}
    assert ends == {"169.254.0.1", "169.254.1.1", "169.254.2.1"}


def test_the_route_writes_every_defaulted_field_and_the_weights() -> None:
    route = gateway_api.http_route(
        "ab", "ns", "evolved", [gateway_api.Backend("ab-stable", 80), gateway_api.Backend("ab-canary", 20)], ["ab.test"]
    )
    spec = route["spec"]
    assert spec["parentRefs"] == [{"group": gateway_api.GROUP, "kind": "Gateway", "name": "evolved", "namespace": "ns"}]
    assert spec["hostnames"] == ["ab.test"]
    (rule,) = spec["rules"]
    assert rule["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "ab-stable", "port": 80, "weight": 80},
        {"group": "", "kind": "Service", "name": "ab-canary", "port": 80, "weight": 20},
    ]
    assert "filters" not in rule


def test_a_mirror_becomes_a_request_mirror_filter_with_a_percent() -> None:
    route = gateway_api.http_route(
        "ab", "ns", "evolved", [gateway_api.Backend("ab-stable", 100)], mirror=(gateway_api.Backend("ab-canary", 0), 25)
    )
    (rule,) = route["spec"]["rules"]
    assert rule["filters"] == [
        {
            "type": "RequestMirror",
            "requestMirror": {
                "backendRef": {"group": "", "kind": "Service", "name": "ab-canary", "port": 80},
                "percent": 25,
            },
        }
    ]


def _route(generation: int, parents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"generation": generation}, "status": {"parents": parents}}


def test_route_conditions_come_from_our_controller_and_the_current_generation() -> None:
    ours = {
        "controllerName": traefik.CONTROLLER_NAME,
        "conditions": [
            {"type": "Accepted", "status": "True", "observedGeneration": 2},
            {"type": "ResolvedRefs", "status": "False", "observedGeneration": 1},
        ],
    }
    other = {"controllerName": "example.com/other", "conditions": [{"type": "ResolvedRefs", "status": "True"}]}
    found = gateway_api.parent_conditions(_route(2, [other, ours]), traefik.CONTROLLER_NAME)
    assert set(found) == {"Accepted"}  # ResolvedRefs describes generation 1: not yet written for 2
    assert gateway_api.is_true(found, "Accepted")
    assert gateway_api.parent_conditions(None, traefik.CONTROLLER_NAME) == {}


def test_traefik_listens_on_loopback_only_watches_one_namespace_and_never_calls_home() -> None:
    cmd = traefik.command(18080, 18081, "t-1", "https://127.0.0.1:6443", Path("/ca.crt"), Path("/token"))
    flags = dict(arg.split("=", 1) for arg in cmd[1:])
    addresses = {k: v for k, v in flags.items() if k.endswith(".address")}
    assert addresses == {
        "--entryPoints.web.address": "127.0.0.1:18080",
        "--entryPoints.traefik.address": "127.0.0.1:18081",
    }
    assert flags["--global.checkNewVersion"] == "false"
    assert flags["--global.sendAnonymousUsage"] == "false"
    assert flags["--providers.kubernetesGateway.namespaces"] == "t-1"
    assert flags["--providers.kubernetesGateway.token"] == "/token"  # a file: the token never shows in `ps`
