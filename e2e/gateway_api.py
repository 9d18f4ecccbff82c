"""The Gateway API in the test cluster: its standard CRDs, and the objects a test applies.

The CRDs are the YAML files of the ``sigs.k8s.io/gateway-api`` module's ``config/crd/standard``
folder, copied into the cache by ``e2e.toolchain`` (target ``gateway-api``); ``install_crds``
applies them server-side (idempotent: a second call changes nothing) and waits until they are
Established. The builders return plain dicts (kubectl takes JSON); every field the apiserver
would default is written out, as the operator's HTTPRoute does, so a re-apply is a no-op.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from e2e import toolchain
from e2e.kube import Kubectl, wait_for

GROUP = "gateway.networking.k8s.io"
VERSION = f"{GROUP}/v1"
FIELD_MANAGER = "evolved-tests"


def crd_names() -> list[str]:
    """Names of the standard CRDs in the cache (``httproutes.gateway.networking.k8s.io``, ...)."""
    names = []
    for path in toolchain.files("gateway-api"):
        # gateway.networking.k8s.io_httproutes.yaml -> httproutes.gateway.networking.k8s.io
        group, _, plural = path.stem.partition("_")
        if group.startswith(GROUP) and plural and not plural.startswith("vap"):
            names.append(f"{plural}.{group}")
    return names


def install_crds(kubectl: Kubectl, timeout: float = 60.0) -> list[str]:
    """Apply the standard Gateway API CRDs (server-side, idempotent); wait until Established."""
    found = toolchain.files("gateway-api")
    if not found:
        raise AssertionError(
            f"no Gateway API CRDs cached for {toolchain.GATEWAY_API_VERSION}: "
            "run `make binaries` (or `python -m e2e.toolchain gateway-api`)"
        )
    for path in found:
        kubectl.run("apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}", "-f", str(path))
    names = crd_names()
    kubectl.run("wait", "--for=condition=Established", f"--timeout={timeout:.0f}s", *(f"crd/{n}" for n in names))
    return names


def apply(kubectl: Kubectl, *objects: dict[str, Any]) -> None:
    """Server-side apply of the objects, as one List."""
    manifest = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    kubectl.run("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-", stdin=json.dumps(manifest))


def gateway_class(name: str, controller: str) -> dict[str, Any]:
    return {
        "apiVersion": VERSION,
        "kind": "GatewayClass",
        "metadata": {"name": name},
        "spec": {"controllerName": controller},
    }


def gateway(name: str, namespace: str, class_name: str, port: int, listener: str = "web") -> dict[str, Any]:
    """One plain-HTTP listener on ``port`` (Traefik serves it on its entrypoint of that port)."""
    return {
        "apiVersion": VERSION,
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "gatewayClassName": class_name,
            "listeners": [
                {"name": listener, "protocol": "HTTP", "port": port, "allowedRoutes": {"namespaces": {"from": "Same"}}}
            ],
        },
    }


@dataclass(frozen=True)
class Backend:
    """A Service a route sends a share of requests to."""

    service: str
    weight: int
    port: int = 80


def backend_ref(backend: Backend) -> dict[str, Any]:
    """A backendRef with every defaulted field written out (group, kind, port, weight)."""
    return {"group": "", "kind": "Service", "name": backend.service, "port": backend.port, "weight": backend.weight}


def http_route(
    name: str,
    namespace: str,
    gateway_name: str,
    backends: list[Backend],
    hostnames: list[str] | None = None,
    mirror: tuple[Backend, int] | None = None,
) -> dict[str, Any]:
    """One rule, prefix ``/``, weighted backendRefs; with ``mirror`` a RequestMirror filter (percent)."""
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
        "backendRefs": [backend_ref(b) for b in backends],
    }
    if mirror is not None:
        target, percent = mirror
        ref = {"group": "", "kind": "Service", "name": target.service, "port": target.port}
        rule["filters"] = [{"type": "RequestMirror", "requestMirror": {"backendRef": ref, "percent": percent}}]
    spec: dict[str, Any] = {
        "parentRefs": [{"group": GROUP, "kind": "Gateway", "name": gateway_name, "namespace": namespace}],
        "rules": [rule],
    }
    if hostnames:
        spec["hostnames"] = hostnames
    return {
        "apiVersion": VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def parent_conditions(route: dict[str, Any] | None, controller: str) -> dict[str, dict[str, Any]]:
    """Condition type -> condition, from the route's parent status written by ``controller``."""
    if not route:
        return {}
    generation = route["metadata"].get("generation")
    for parent in route.get("status", {}).get("parents", []):
        if parent.get("controllerName") != controller:
            continue
        return {
            c["type"]: c
            for c in parent.get("conditions", [])
            if c.get("observedGeneration", generation) == generation  # stale conditions describe an older spec
        }
    return {}


def wait_route_status(
    kubectl: Kubectl, namespace: str, name: str, controller: str, timeout: float = 60.0
) -> dict[str, dict[str, Any]]:
    """The route's Accepted and ResolvedRefs conditions, once its gateway wrote both for this generation."""

    def probe() -> dict[str, dict[str, Any]] | None:
        found = parent_conditions(kubectl.get("httproute", name, "-n", namespace), controller)
        return found if {"Accepted", "ResolvedRefs"} <= found.keys() else None

    return wait_for(f"HTTPRoute {namespace}/{name} status from {controller}", probe, timeout=timeout, interval=0.3)


def is_true(conditions: dict[str, dict[str, Any]], kind: str) -> bool:
    return conditions.get(kind, {}).get("status") == "True"
