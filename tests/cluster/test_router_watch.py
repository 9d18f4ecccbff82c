"""`evolved-runtime router` in Kubernetes mode on the real control plane: it follows the pipeline's
weights (status.traffic), sticky and mirror settings and its workers' EndpointSlices by watching
them, reports the weights it applies on its Lease, and keeps serving while the API is away.

No operator runs here: the test writes the pipeline, its status, the Lease and the EndpointSlices
the way the operator and the endpoint controller would (an operator watching every namespace at
the same time would fight it; the test says so when it sees one's objects). The workers are real runtime workers in
network namespaces that hold the addresses the slices list (e2e.netns), so the router reaches
them at exactly those addresses; the router talks to the apiserver through a local TCP relay the
test can cut, to make the API unreachable without touching the shared control plane.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import socket
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from e2e import netns, operator_proc, processes
from e2e.kube import Kubectl, wait_for
from tests.runtime.router.load import hammer

pytestmark = pytest.mark.cluster

PIPELINE = "qa"
FOREIGN_WRITER = (
    "more endpoints than this test made: an operator reconciling every namespace (`evolved-operator run "
    "--all-namespaces`, e.g. another session's cluster tests) is writing this pipeline's children and status; "
    "run this test while no such operator runs"
)
WORKER_PORT = 8080


class Relay:
    """A TCP relay on 127.0.0.1 to the apiserver that the test can cut (every connection closed,
    nothing listening) and restore on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def start(self) -> None:
        async def start() -> None:
            self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def cut(self) -> None:
        async def cut() -> None:
            if self.server is not None:
                self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()

        asyncio.run_coroutine_threadsafe(cut(), self.loop).result(10)

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)


def pod_addresses(count: int) -> list[str]:
    """Private addresses no network of this machine uses (pods of a KWOK cluster have none)."""
    networks = netns.host_networks()
    found: list[str] = []
    for _ in range(200):
        address = str(ipaddress.IPv4Address("10.244.0.0") + random.randrange(256, 65000))
        try:
            netns.check_address(address, networks)
        except netns.NetnsError:
            continue
        if address not in found:
            found.append(address)
        if len(found) == count:
            return found
    pytest.fail("no free private address for a pod namespace")


def endpoint_slice(namespace: str, variant: str, address: str, ready: bool) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{PIPELINE}-{variant}-abcde",
            "namespace": namespace,
            "labels": {
                "pipelines.evolved.io/pipeline": PIPELINE,
                "pipelines.evolved.io/variant": variant,
                "app.kubernetes.io/component": "worker",
                "kubernetes.io/service-name": f"{PIPELINE}-{variant}",
            },
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": WORKER_PORT, "protocol": "TCP"}],
        "endpoints": [{"addresses": [address], "conditions": {"ready": ready}}],
    }


def apply(kubectl: Kubectl, obj: dict[str, Any]) -> None:
    kubectl.run("apply", "--server-side", "--field-manager", "test", "-f", "-", stdin=yaml.safe_dump(obj))


def set_weights(kubectl: Kubectl, namespace: str, weights: dict[str, int]) -> None:
    variants = [{"name": name, "weight": weight} for name, weight in weights.items()]
    text = ",".join(f"{name}={weight}" for name, weight in weights.items())
    patch = {"status": {"traffic": {"provider": "router", "weights": text, "variants": variants}}}
    kubectl.run(
        "patch", "evp", PIPELINE, "-n", namespace, "--subresource=status", "--type=merge", "-p", json.dumps(patch)
    )


def relayed_kubeconfig(kubeconfig: str, path: Path) -> tuple[Relay, Path]:
    """A relay to the kubeconfig's (local) apiserver and a copy of the kubeconfig that goes through it."""
    config = yaml.safe_load(Path(kubeconfig).read_text())
    server = urlsplit(config["clusters"][0]["cluster"]["server"])
    assert server.hostname in ("127.0.0.1", "localhost"), "the relay only serves a local apiserver"
    relay = Relay((server.hostname, server.port or 443))
    relay.start()
    config["clusters"][0]["cluster"]["server"] = f"https://{server.hostname}:{relay.port}"
    path.write_text(yaml.safe_dump(config))
    return relay, path


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def workers(tmp_path: Path, namespace: str) -> Iterator[dict[str, str]]:
    """A real runtime worker per variant, each in a network namespace holding its pod address."""
    why = netns.available()
    if why:
        pytest.skip(why)
    with ExitStack() as stack:
        addresses: dict[str, str] = {}
        for variant, address in zip(("stable", "canary"), pod_addresses(2), strict=True):
            pod = stack.enter_context(netns.pod_netns(address))
            config = tmp_path / f"{variant}.json"
            config.write_text(json.dumps({"pipeline": PIPELINE, "variant": variant}))
            cmd = [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(config), "--host", address,
                   "--port", str(WORKER_PORT)]  # fmt: skip
            pod.run(f"worker-{variant}", cmd, tmp_path / f"worker-{variant}.log")
            addresses[variant] = address
        for variant, address in addresses.items():
            wait_for(f"worker {variant} ready", lambda a=address: answers(f"http://{a}:{WORKER_PORT}/ready"), 90)
        yield addresses


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


async def test_the_router_follows_the_pipeline_and_its_slices_and_outlives_the_api(
    kubeconfig: str, kubectl: Kubectl, namespace: str, workers: dict[str, str], tmp_path: Path
) -> None:
    operator_proc.install_crd(kubectl)
    pipeline = {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": PIPELINE, "namespace": namespace},
        "spec": {
            "variants": [{"name": "stable", "role": "stable"}, {"name": "canary", "role": "candidate"}],
            "traffic": {"provider": "router", "sticky": {"header": "X-User"}},
        },
    }
    apply(kubectl, pipeline)
    set_weights(kubectl, namespace, {"stable": 90, "canary": 10})
    apply(kubectl, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": f"{PIPELINE}-router", "namespace": namespace}, "spec": {}})  # fmt: skip
    for variant, address in workers.items():
        apply(kubectl, endpoint_slice(namespace, variant, address, ready=True))

    relay, relayed = relayed_kubeconfig(kubeconfig, tmp_path / "kubeconfig")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "evolved_runtime.cli", "router", "--pipeline", PIPELINE, "--namespace", namespace,
           "--kubeconfig", str(relayed), "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    router = processes.start("router", cmd, tmp_path / "router.log")
    try:

        def traffic_is(weights: dict[str, int], canary_endpoints: int = 1) -> bool:
            if not router.alive():
                raise AssertionError(router.log_tail())
            if not answers(url + "/healthz"):
                return False
            traffic = get_json(url + "/traffic")
            counts = {v["name"]: len(v["endpoints"]) for v in traffic["variants"]}
            if counts.get("stable", 0) > 1:
                pytest.fail(FOREIGN_WRITER)
            return bool(traffic["weights"] == weights and counts == {"stable": 1, "canary": canary_endpoints})

        def lease_says(weights: str) -> bool:
            lease = kubectl.get("lease", f"{PIPELINE}-router", "-n", namespace) or {}
            annotations = lease.get("metadata", {}).get("annotations", {})
            return bool(
                annotations.get("pipelines.evolved.io/router-weights") == weights and lease["spec"].get("renewTime")
            )

        wait_for("the router's first table", lambda: traffic_is({"stable": 90, "canary": 10}), 30)
        traffic = get_json(url + "/traffic")
        assert traffic["source"] == "kubernetes"
        assert traffic["sticky"] == {"header": "x-user", "openAIUser": False}
        assert traffic["variants"][0]["endpoints"] == [
            {"address": f"{workers['stable']}:{WORKER_PORT}", "state": "healthy"}
        ]
        wait_for("the weights on the Lease", lambda: lease_says("stable=90,canary=10"), 10)
        outcome = await hammer(url + "/health", 300, concurrency=4)
        assert outcome.errors == []
        assert set(outcome.variants) == {"stable", "canary"}

        # a weight changed in the pipeline's status reaches the router (and its Lease)
        set_weights(kubectl, namespace, {"stable": 50, "canary": 50})
        wait_for("the new weights in the router", lambda: traffic_is({"stable": 50, "canary": 50}), 10)
        wait_for("the new weights on the Lease", lambda: lease_says("stable=50,canary=50"), 10)

        # an endpoint that is no longer ready leaves the table; the mirror setting arrives from spec
        apply(kubectl, endpoint_slice(namespace, "canary", workers["canary"], ready=False))
        pipeline["spec"]["traffic"]["mirror"] = {"variant": "canary", "percent": 20}
        apply(kubectl, pipeline)
        wait_for("the unready endpoint gone", lambda: traffic_is({"stable": 50, "canary": 50}, canary_endpoints=0), 10)
        wait_for("the mirror", lambda: get_json(url + "/traffic")["mirror"] == {"variant": "canary", "percent": 20}, 10)

        # the API goes away: the router keeps serving with what it knew
        relay.cut()
        outcome = await hammer(url + "/health", 200, concurrency=4)
        assert outcome.errors == []
        assert outcome.variants == {"stable": 200}  # canary has no ready endpoint: its share fails over
        assert traffic_is({"stable": 50, "canary": 50}, canary_endpoints=0)

        # the API is back: the router lists again and catches up with what changed meanwhile
        apply(kubectl, endpoint_slice(namespace, "canary", workers["canary"], ready=True))
        set_weights(kubectl, namespace, {"stable": 20, "canary": 80})
        relay.start()
        wait_for("the router to catch up", lambda: traffic_is({"stable": 20, "canary": 80}), 30)
        wait_for("the caught-up weights on the Lease", lambda: lease_says("stable=20,canary=80"), 30)
        outcome = await hammer(url + "/health", 200, concurrency=4)
        assert outcome.errors == []
    finally:
        assert router.stop() == 0, router.log_tail()
        relay.close()
