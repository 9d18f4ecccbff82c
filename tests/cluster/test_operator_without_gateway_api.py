"""The operator on a cluster without the Gateway API CRDs (most clusters): it starts, serves
pipelines on the router provider, and stalls one that asks for gatewayAPI with a reason naming
what to install. The real apiserver answers an unserved API group with a plain-text 404, which
lightkube raises as httpx2's HTTPStatusError, not its ApiError."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e import gateway_api, operator_proc, processes
from e2e.evp import apply, condition, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for
from evolved_operator.kube import LightKube, is_not_found

pytestmark = pytest.mark.cluster


@pytest.fixture
def without_gateway_api(kubectl: Kubectl) -> Iterator[None]:
    """The Gateway API CRDs deleted for the test, installed again after it."""
    names = gateway_api.crd_names()
    kubectl.run("delete", "crd", *names, "--ignore-not-found", "--wait=true", "--timeout=60s")
    try:
        yield
    finally:
        gateway_api.install_crds(kubectl)


def test_the_kube_layer_reads_an_unserved_kind_as_not_found(
    kubeconfig: str, without_gateway_api: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", kubeconfig)  # lightkube's default configuration

    async def probe() -> None:
        kube = LightKube()
        try:
            with pytest.raises(Exception, match="404") as caught:
                await kube.list_owned("gateway.networking.k8s.io/v1", "HTTPRoute", {"a": "b"})
            assert is_not_found(caught.value), repr(caught.value)
            assert await kube.get("gateway.networking.k8s.io/v1", "HTTPRoute", "default", "x") is None
            await kube.delete("gateway.networking.k8s.io/v1", "HTTPRoute", "default", "x")  # nothing to delete
        finally:
            await kube.close()

    asyncio.run(probe())


def test_the_operator_starts_and_stalls_only_the_pipeline_that_needs_gateway_api(
    kubeconfig: str, kubectl: Kubectl, namespace: str, tmp_path: Path, without_gateway_api: None
) -> None:
    operator_proc.install_crd(kubectl)
    proc: processes.Background = operator_proc.start_operator(kubeconfig, tmp_path / "operator.log")
    try:
        wait_for("the operator to note the missing kind",
                 lambda: "HTTPRoute is not served by this cluster" in proc.log_path.read_text() or not proc.alive(), 60)  # fmt: skip
        assert proc.alive(), proc.log_tail()
        apply(kubectl, pipeline("plain", namespace))
        wait_ready(kubectl, "plain", namespace)
        gated = pipeline("gated", namespace)
        gated["spec"]["traffic"] = {"provider": "gatewayAPI", "gatewayAPI": {"parentRefs": [{"name": "gw"}]}}
        apply(kubectl, gated)

        def stalled() -> dict[str, str] | None:
            found = condition(kubectl.get("evp", "gated", "-n", namespace), "Stalled")
            return found if found.get("status") == "True" else None

        stall = wait_for("the gatewayAPI pipeline to stall", stalled, 60)
        assert stall["reason"] == "GatewayAPINotInstalled"
        assert "install its CRDs" in stall["message"]
        assert proc.alive(), proc.log_tail()
    finally:
        proc.stop()
