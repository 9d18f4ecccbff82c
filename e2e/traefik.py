"""Traefik as the tests' Gateway API data plane: a local process watching the local apiserver.

Traefik (built from its Go module by ``e2e.toolchain``) runs with its Kubernetes Gateway
provider pointed at the cluster's apiserver from outside the cluster: ``endpoint`` is the
kubeconfig's server, ``certAuthFilePath`` its CA, and ``token`` a file holding a ServiceAccount
token (the provider takes no client certificate, so the kubeconfig's admin certificate cannot be
used). The ServiceAccount lives in the test namespace and gets, for the test's duration, the
ClusterRole that Traefik's module ships for its Gateway provider
(``docs/content/reference/dynamic-configuration/kubernetes-gateway-rbac.yml``: read Gateway API
objects, Services, EndpointSlices, Secrets, ConfigMaps and Namespaces; update the objects'
status), under a name of the test's own; the provider watches only the test namespace.

Traefik listens on 127.0.0.1 only: entrypoint ``web`` on a free port, which the test's Gateway
names as its listener port (Traefik attaches a listener to the entrypoint of the same port),
and entrypoint ``traefik`` on another free port for ``/ping``. It never calls home
(``checkNewVersion`` and ``sendAnonymousUsage`` off), and reaches backends at the addresses the
EndpointSlices list: network namespaces the test made (``e2e.netns``).
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from e2e import gateway_api, netns, processes, toolchain
from e2e.kube import Kubectl, wait_for
from e2e.paths import cache_dir

CONTROLLER_NAME = "traefik.io/gateway-controller"
SERVICE_ACCOUNT = "evolved-traefik"
GATEWAY_NAME = "evolved"
TOKEN_DURATION = "2h"
RBAC = "rbac.authorization.k8s.io/v1"
RBAC_IN_MODULE = "docs/content/reference/dynamic-configuration/kubernetes-gateway-rbac.yml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Traefik:
    """A running Traefik and the Gateway objects it serves for one namespace."""

    process: processes.Background
    namespace: str
    port: int  # entrypoint `web` on 127.0.0.1, the Gateway's listener port
    ping_port: int
    gateway_class: str
    gateway: str = GATEWAY_NAME
    controller: str = CONTROLLER_NAME

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ping(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ping_port}/ping", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False


def api_access(kubectl: Kubectl, workdir: Path) -> tuple[str, Path]:
    """The apiserver's URL from the kubeconfig, and its CA certificate as a file."""
    view = json.loads(kubectl.run("config", "view", "--raw", "--minify", "-o", "json").stdout)
    cluster = view["clusters"][0]["cluster"]
    server = str(cluster["server"])
    if not server.startswith(("https://127.0.0.1:", "https://localhost:", "https://[::1]:")):
        raise AssertionError(f"the apiserver {server} is not on this machine: Traefik runs only against a local one")
    ca = workdir / "apiserver-ca.crt"
    if cluster.get("certificate-authority-data"):
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    elif cluster.get("certificate-authority"):
        ca.write_bytes(Path(cluster["certificate-authority"]).read_bytes())
    else:
        raise AssertionError("the kubeconfig names no CA for the apiserver")
    return server, ca


def rbac_rules() -> list[dict[str, Any]]:
    """The rules of the ClusterRole that Traefik documents for its Gateway provider, read from the
    copy of its module that ``e2e.toolchain`` builds it in."""
    path = cache_dir() / "build" / f"traefik-{toolchain.TRAEFIK_VERSION}" / "src" / RBAC_IN_MODULE
    if not path.is_file():
        raise AssertionError(f"{path} is missing: run `make binaries` (or `python -m e2e.toolchain traefik`)")
    for document in yaml.safe_load_all(path.read_text()):
        if document and document.get("kind") == "ClusterRole":
            return list(document["rules"])
    raise AssertionError(f"no ClusterRole in {path}")


def service_account_token(kubectl: Kubectl, namespace: str, workdir: Path) -> Path:
    """A token file for a ServiceAccount in ``namespace`` with Traefik's Gateway provider's ClusterRole."""
    name = _cluster_scoped_name(namespace)
    subject = {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}
    gateway_api.apply(
        kubectl,
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SERVICE_ACCOUNT, "namespace": namespace}},
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rbac_rules()},
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [subject],
        },
    )
    token = kubectl.run("create", "token", SERVICE_ACCOUNT, "-n", namespace, f"--duration={TOKEN_DURATION}").stdout
    path = workdir / "traefik-token"
    path.touch(mode=0o600)
    path.write_text(token.strip())
    return path


def _cluster_scoped_name(namespace: str) -> str:
    """The ClusterRole's and ClusterRoleBinding's name: one pair per test namespace."""
    return f"evolved-traefik-{namespace}"


def command(port: int, ping_port: int, namespace: str, server: str, ca: Path, token: Path) -> list[str]:
    provider = "--providers.kubernetesGateway"
    return [
        str(toolchain.binary("traefik")),
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        f"--entryPoints.web.address=127.0.0.1:{port}",
        f"--entryPoints.traefik.address=127.0.0.1:{ping_port}",
        "--ping=true",
        "--ping.entryPoint=traefik",
        "--log.level=DEBUG",
        "--log.noColor=true",
        f"{provider}=true",
        f"{provider}.endpoint={server}",
        f"{provider}.certAuthFilePath={ca}",
        f"{provider}.token={token}",
        f"{provider}.namespaces={namespace}",
        f"{provider}.statusAddress.ip=127.0.0.1",
    ]


def gateway_conditions(gateway: dict[str, Any] | None) -> dict[str, str]:
    if not gateway:
        return {}
    generation = gateway["metadata"].get("generation")
    return {
        c["type"]: c["status"]
        for c in gateway.get("status", {}).get("conditions", [])
        if c.get("observedGeneration", generation) == generation
    }


@contextmanager
def running(kubectl: Kubectl, namespace: str, workdir: Path, timeout: float = 60.0) -> Iterator[Traefik]:
    """Traefik serving a Gateway in ``namespace``; everything it needed is removed on the way out."""
    workdir.mkdir(parents=True, exist_ok=True)
    class_name = f"evolved-{namespace}"
    port, ping_port = free_port(), free_port()
    proc: processes.Background | None = None
    try:
        server, ca = api_access(kubectl, workdir)
        token = service_account_token(kubectl, namespace, workdir)
        gateway_api.apply(
            kubectl,
            gateway_api.gateway_class(class_name, CONTROLLER_NAME),
            gateway_api.gateway(GATEWAY_NAME, namespace, class_name, port),
        )
        proc = processes.start(
            "traefik",
            netns.dies_with_parent(command(port, ping_port, namespace, server, ca, token)),
            workdir / "traefik.log",
        )
        traefik = Traefik(proc, namespace, port, ping_port, class_name)
        wait_for("Traefik /ping", lambda: traefik.ping() or not proc.alive(), timeout=timeout)
        assert proc.alive(), f"Traefik exited ({proc.process.returncode}):\n{proc.log_tail()}"

        def programmed() -> dict[str, str] | None:
            found = gateway_conditions(kubectl.get("gateway", GATEWAY_NAME, "-n", namespace))
            return found if found.get("Accepted") == "True" and found.get("Programmed") == "True" else None

        try:
            wait_for(f"Gateway {namespace}/{GATEWAY_NAME} Accepted and Programmed", programmed, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nTraefik's log:\n{proc.log_tail()}") from exc
        yield traefik
    finally:
        if proc is not None:
            proc.stop()
        name = _cluster_scoped_name(namespace)
        kubectl.run("delete", f"clusterrolebinding/{name}", f"clusterrole/{name}", "--ignore-not-found", check=False)
        kubectl.run("delete", "gatewayclass", class_name, "--ignore-not-found", "--wait=false", check=False)
