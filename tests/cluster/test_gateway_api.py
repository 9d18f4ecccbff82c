"""A real Gateway API data plane splits live traffic by an HTTPRoute's weights.

Traefik (built from its Go module) runs as a local process with its Kubernetes Gateway provider
against the test cluster. Two variants of a pipeline exist the way the cluster has them: a
Deployment and a Service per variant; KWOK makes the pods Ready and gives them IPs, and the
EndpointSlice controller lists those IPs. Each variant's worker is a real ``evolved-runtime
serve`` in a network namespace holding its pod's IP (``e2e.netns``), so Traefik reaches it at
the address the EndpointSlice names. Traffic goes only to 127.0.0.1 (Traefik's entrypoint) and
to those namespaces.

The variants' programs differ, so every answer's ``x-evolved-program-hash`` header says which
variant served it. ``apply_split`` is the one step that produces the HTTPRoute in the tests of
Traefik's behaviour; the last test takes the whole path instead: the operator renders the route,
the Deployments and the Services for an EvolvedPipeline with provider ``gatewayAPI``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e import evp, gateway_api, netns, processes, toolchain, traefik
from e2e.dataplane import worker_config  # the worker's config as its pod mounts it
from e2e.kube import Kubectl, wait_for
from evolved_runtime.programs.loader import DEFAULTS_DIR

pytestmark = pytest.mark.cluster

PIPELINE = "ab"
HOSTNAME = "ab.evolved.test"  # the route's hostname: requests carry it as Host (the name resolves nowhere)
WEIGHTS = {"stable": 80, "canary": 20}
REQUESTS = 1000
TOLERANCE = 0.02  # the bound; Traefik's weighted round robin is deterministic (800/200 exactly here)
WORKER_PORT = 8080
QUESTION = json.dumps(
    {"model": "evolved", "messages": [{"role": "user", "content": "Solve 3x + 5 = 20"}]}
).encode()  # answered by the solver, no LLM
LABEL_PIPELINE = "evolved.test/pipeline"
LABEL_VARIANT = "evolved.test/variant"


def _unavailable(why: str) -> None:
    if os.environ.get("EVOLVED_REQUIRE_CLUSTER", "") not in ("", "0", "false"):
        pytest.fail(f"{why} (EVOLVED_REQUIRE_CLUSTER=1 makes this a failure)", pytrace=False)
    pytest.skip(why)


def service_name(variant: str) -> str:
    return f"{PIPELINE}-{variant}"


def variant_objects(namespace: str, variant: str) -> list[dict[str, Any]]:
    """A one-pod Deployment and its Service (port 80 -> the pods' port named http), as the operator has them."""
    labels = {LABEL_PIPELINE: PIPELINE, LABEL_VARIANT: variant}
    container = {
        "name": "worker",
        "image": "evolved-pipelines/runtime:test",  # never pulled: KWOK runs no container
        "ports": [{"name": "http", "containerPort": WORKER_PORT, "protocol": "TCP"}],
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": service_name(variant), "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service_name(variant), "namespace": namespace, "labels": labels},
            "spec": {
                "type": "ClusterIP",
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
    ]


def ready_endpoint_address(kubectl: Kubectl, namespace: str, service: str) -> str | None:
    """The one ready address the Service's EndpointSlices list (with port http = 8080), else None."""
    addresses = []
    for endpoint_slice in kubectl.items(
        "endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={service}"
    ):
        if not any(p.get("name") == "http" and p.get("port") == WORKER_PORT for p in endpoint_slice.get("ports") or []):
            continue
        for endpoint in endpoint_slice.get("endpoints") or []:
            if endpoint.get("conditions", {}).get("ready"):
                addresses.extend(endpoint.get("addresses", []))
    return addresses[0] if len(addresses) == 1 else None


def wait_pod_address(kubectl: Kubectl, namespace: str, service: str, timeout: float = 90.0) -> str:
    """The pod IP of the Service's one pod, once KWOK made it Ready and its EndpointSlice lists it."""
    return wait_for(
        f"a ready address in {service}'s EndpointSlices",
        lambda: ready_endpoint_address(kubectl, namespace, service),
        timeout=timeout,
    )


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read()
    except OSError:
        return 0, b""


def ask(host: str, port: int, timeout: float = 10.0) -> tuple[int, str]:
    """One chat request on a fresh connection: the status and the answer's program hash."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("POST", "/v1/chat/completions", QUESTION, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("x-evolved-program-hash") or ""
    except OSError:
        return 0, ""
    finally:
        connection.close()


def requests_served(address: str) -> int:
    """Chat requests a worker answered, from its own /metrics (read at its pod address)."""
    status, body = http_get(f"http://{address}:{WORKER_PORT}/metrics")
    assert status == 200, f"/metrics of the worker at {address}: {status}"
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("evolved_requests_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


@dataclass
class Worker:
    variant: str
    address: str
    program_hash: str


@dataclass
class DataPlane:
    kubectl: Kubectl
    namespace: str
    gateway: traefik.Traefik
    workers: dict[str, Worker]

    def send(self, count: int) -> Counter[str]:
        return send(self.gateway.port, HOSTNAME, list(self.workers.values()), count)


def send(port: int, hostname: str, workers: list[Worker], count: int) -> Counter[str]:
    """``count`` requests through Traefik's entrypoint on one connection, with ``hostname`` as Host;
    the variant of each answer (by its program hash), or its status when it is not a 200."""
    variants = {w.program_hash: w.variant for w in workers}
    seen: Counter[str] = Counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json", "Host": hostname}
        for _ in range(count):
            connection.request("POST", "/v1/chat/completions", QUESTION, headers)
            response = connection.getresponse()
            response.read()
            variant = variants.get(response.getheader("x-evolved-program-hash") or "")
            seen[variant if response.status == 200 and variant else f"status {response.status}"] += 1
    finally:
        connection.close()
    return seen


def apply_split(plane: DataPlane, weights: dict[str, int], mirror: tuple[str, int] | None = None) -> str:
    """Produce the pipeline's HTTPRoute; returns its name.

    The one step that the operator takes over with ``spec.traffic.provider: gatewayAPI``: it
    renders an HTTPRoute named after the pipeline (parentRefs and hostnames from
    ``spec.traffic.gatewayAPI``: here the Traefik Gateway and HOSTNAME), one rule with a weighted
    backendRef per variant Service (``<pipeline>-<variant>``, port 80), and a RequestMirror filter
    for a mirror variant (as ``operator/traffic/gateway.py`` renders it, field for field). Writing
    it here keeps these tests about Traefik alone; the operator's own route is the last test's.
    """
    backends = [gateway_api.Backend(service_name(v), w) for v, w in weights.items()]
    mirrored = (gateway_api.Backend(service_name(mirror[0]), 0), mirror[1]) if mirror else None
    route = gateway_api.http_route(
        PIPELINE, plane.namespace, plane.gateway.gateway, backends, hostnames=[HOSTNAME], mirror=mirrored
    )
    gateway_api.apply(plane.kubectl, route)
    return PIPELINE


def wait_split_serving(plane: DataPlane, variants: set[str], timeout: float = 30.0) -> None:
    """Until requests through Traefik reach every variant in ``variants`` (its config is applied)."""

    def probe() -> bool:
        seen = plane.send(10)
        return set(seen) == variants

    wait_for(f"Traefik to route to {sorted(variants)}", probe, timeout=timeout, interval=0.3)


@pytest.fixture(scope="module")
def data_plane(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    why = netns.available()
    if why:
        _unavailable(why)
    built = [t for t in toolchain.targets() if t.name in ("traefik", "gateway-api")]
    if not all(toolchain.is_built(t) for t in built):
        _unavailable("Traefik or the Gateway API CRDs are not built: run `make binaries`")
    nodes = kubectl.items("nodes")
    if not nodes or any(n["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") != "fake" for n in nodes):
        pytest.skip("needs KWOK's simulated nodes: the test runs each pod's worker itself, at the pod's IP")
    netns.remove_stale()
    workdir = tmp_path_factory.mktemp("gateway-api")
    namespace = f"t-{uuid.uuid4().hex[:10]}"
    kubectl.run("create", "namespace", namespace)
    namespaces: list[netns.PodNetns] = []
    try:
        gateway_api.install_crds(kubectl)
        gateway_api.apply(kubectl, *(o for v in WEIGHTS for o in variant_objects(namespace, v)))
        addresses = {v: wait_pod_address(kubectl, namespace, service_name(v)) for v in WEIGHTS}
        workers: dict[str, Worker] = {}
        for variant, address in addresses.items():
            ns = netns.create(address)
            namespaces.append(ns)
            workers[variant] = start_worker(ns, variant, variant_config(variant, workdir), workdir)
        with traefik.running(kubectl, namespace, workdir / "traefik") as gateway:
            yield DataPlane(kubectl, namespace, gateway, workers)
    finally:
        for ns in namespaces:
            ns.close()
        kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)


def variant_config(variant: str, workdir: Path) -> Path:
    """A worker's config whose router program differs per variant by a comment (a distinct hash)."""
    programs = workdir / f"programs-{variant}"
    programs.mkdir()
    source = (DEFAULTS_DIR / "router.py").read_text()
    (programs / "router.py").write_text(f"{source}\n# variant {variant}\n")
    shutil.copyfile(DEFAULTS_DIR / "profiles.py", programs / "profiles.py")
    config = workdir / f"pipeline-{variant}.json"
    config.write_text(json.dumps({"pipeline": PIPELINE, "variant": variant, "programs_dir": str(programs)}))
    return config


def start_worker(ns: netns.PodNetns, variant: str, config: Path, workdir: Path) -> Worker:
    """``evolved-runtime serve`` inside the pod's namespace, on its pod IP; its program hash from a first answer."""
    cmd = [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(config),
           "--host", ns.address, "--port", str(WORKER_PORT)]  # fmt: skip
    proc = ns.run(f"worker-{variant}", cmd, workdir / f"worker-{variant}.log")
    ready = f"http://{ns.address}:{WORKER_PORT}/ready"
    wait_for(
        f"the {variant} worker at {ns.address} to be ready", lambda: http_get(ready)[0] == 200 or not proc.alive(), 60
    )
    assert proc.alive(), proc.log_tail()
    status, program_hash = ask(ns.address, WORKER_PORT)
    assert status == 200, f"the {variant} worker answered {status}:\n{proc.log_tail()}"
    assert program_hash, "the worker's answer has no x-evolved-program-hash header"
    return Worker(variant, ns.address, program_hash)


def assert_split(seen: Counter[str], weights: dict[str, int]) -> None:
    """Every answer a 200 from a variant, each variant's share within TOLERANCE of its weight."""
    total = sum(seen.values())
    assert set(seen) <= set(weights), f"every answer from a variant with status 200: {dict(seen)}"
    for variant, weight in weights.items():
        share = seen[variant] / total
        assert abs(share - weight / 100) <= TOLERANCE, f"{variant}: {share:.1%} for weight {weight}: {dict(seen)}"


def test_the_variants_are_told_apart_by_their_program_hash(data_plane: DataPlane) -> None:
    hashes = {w.program_hash for w in data_plane.workers.values()}
    assert len(hashes) == len(WEIGHTS), data_plane.workers


def test_traefik_accepts_the_weighted_route_and_splits_live_traffic_by_its_weights(data_plane: DataPlane) -> None:
    name = apply_split(data_plane, WEIGHTS)
    conditions = gateway_api.wait_route_status(
        data_plane.kubectl, data_plane.namespace, name, data_plane.gateway.controller, timeout=60
    )
    assert gateway_api.is_true(conditions, "Accepted"), conditions
    assert gateway_api.is_true(conditions, "ResolvedRefs"), conditions
    wait_split_serving(data_plane, set(WEIGHTS))

    seen = data_plane.send(REQUESTS)

    print(f"{REQUESTS} requests through Traefik: {dict(seen)}")
    assert_split(seen, WEIGHTS)


def test_a_weight_change_in_the_route_reaches_traefik(data_plane: DataPlane) -> None:
    apply_split(data_plane, WEIGHTS)
    name = apply_split(data_plane, {"stable": 50, "canary": 50})
    conditions = gateway_api.wait_route_status(
        data_plane.kubectl, data_plane.namespace, name, data_plane.gateway.controller, timeout=60
    )
    assert gateway_api.is_true(conditions, "Accepted"), conditions
    wait_for("Traefik to split 50/50", lambda: data_plane.send(20) == Counter({"stable": 10, "canary": 10}), 30)

    seen = data_plane.send(REQUESTS)

    assert_split(seen, {"stable": 50, "canary": 50})


def test_a_backend_service_that_does_not_exist_is_reported_in_the_route_status(data_plane: DataPlane) -> None:
    """What the operator reflects into the pipeline's conditions when its gateway rejects a route."""
    route = gateway_api.http_route(
        f"{PIPELINE}-missing",
        data_plane.namespace,
        data_plane.gateway.gateway,
        [gateway_api.Backend(service_name("missing"), 100)],
        hostnames=["missing.evolved.test"],
    )
    gateway_api.apply(data_plane.kubectl, route)

    conditions = gateway_api.wait_route_status(
        data_plane.kubectl, data_plane.namespace, f"{PIPELINE}-missing", data_plane.gateway.controller, timeout=60
    )

    resolved = conditions["ResolvedRefs"]
    assert (resolved["status"], resolved["reason"]) == ("False", "BackendNotFound"), resolved
    assert service_name("missing") in resolved["message"], resolved


def test_traefik_does_not_implement_request_mirror_and_answers_500_for_the_whole_rule(data_plane: DataPlane) -> None:
    """What Traefik v3.6 does with the RequestMirror filter the operator renders for a mirror.

    Recorded in docs/traffic.md: Traefik's Gateway provider lists RequestMirror as unsupported;
    a rule that carries one is served by an error service (500 for every request, the mirror and
    the primary backends receive nothing), while the route's status still reads Accepted and
    ResolvedRefs. A gateway that implements mirroring would fail this test: then the provider's
    docs change with it.
    """
    name = apply_split(data_plane, {"stable": 100, "canary": 0}, mirror=("canary", 100))
    conditions = gateway_api.wait_route_status(
        data_plane.kubectl, data_plane.namespace, name, data_plane.gateway.controller, timeout=60
    )
    wait_for("Traefik to apply the mirrored route", lambda: data_plane.send(1) == Counter({"status 500": 1}), 30)
    served_before = {v: requests_served(w.address) for v, w in data_plane.workers.items()}

    seen = data_plane.send(20)

    assert seen == Counter({"status 500": 20})
    assert {v: requests_served(w.address) for v, w in data_plane.workers.items()} == served_before
    summary = {kind: (c["status"], c.get("reason")) for kind, c in conditions.items()}
    assert gateway_api.is_true(conditions, "Accepted"), summary
    assert gateway_api.is_true(conditions, "ResolvedRefs"), summary


def test_traefik_serves_the_route_the_operator_renders_and_splits_by_its_weights(
    data_plane: DataPlane, operator: processes.Background, tmp_path: Path
) -> None:
    """The whole path: an EvolvedPipeline with provider gatewayAPI, its HTTPRoute rendered by the
    operator, accepted by Traefik, the pipeline Ready on the gateway's word, and live traffic split
    by the declared weights between the pods the operator's Deployments made."""
    kubectl, namespace = data_plane.kubectl, data_plane.namespace
    name, hostname = "op", "op.evolved.test"
    obj = evp.pipeline(name, namespace)  # stable runs an inline router program: a hash of its own
    for variant, weight in zip(obj["spec"]["variants"], (80, 20), strict=True):
        variant["replicas"] = 1
        variant["weight"] = weight
    obj["spec"]["traffic"] = {
        "provider": "gatewayAPI",
        "gatewayAPI": {"parentRefs": [{"name": data_plane.gateway.gateway}], "hostnames": [hostname]},
    }
    evp.apply(kubectl, obj)
    with ExitStack() as stack:
        workers = []
        for variant in ("stable", "candidate"):
            address = wait_pod_address(kubectl, namespace, f"{name}-{variant}")
            ns = stack.enter_context(netns.pod_netns(address))
            config = worker_config(kubectl, namespace, name, variant, tmp_path / variant)
            workers.append(start_worker(ns, variant, config, tmp_path))
        assert len({w.program_hash for w in workers}) == 2, workers

        conditions = gateway_api.wait_route_status(kubectl, namespace, name, data_plane.gateway.controller)
        assert gateway_api.is_true(conditions, "Accepted"), conditions
        assert gateway_api.is_true(conditions, "ResolvedRefs"), conditions
        evp.wait_ready(kubectl, name, namespace)
        wait_for(
            "Traefik to route to both variants",
            lambda: set(send(data_plane.gateway.port, hostname, workers, 10)) == {"stable", "candidate"},
            timeout=30,
            interval=0.3,
        )

        seen = send(data_plane.gateway.port, hostname, workers, REQUESTS)

    assert_split(seen, {"stable": 80, "candidate": 20})
