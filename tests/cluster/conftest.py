"""Fixtures of the cluster tests: kubectl bound to the test cluster, a fresh namespace per test, the operator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from e2e import gateway_api, operator_proc, processes
from e2e.kube import Kubectl


@pytest.fixture(scope="session")
def kubectl(kubeconfig: str) -> Kubectl:
    return Kubectl(kubeconfig)


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def operator(
    kubeconfig: str, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[processes.Background]:
    """The operator for one test module, started after the CRD and the Gateway API CRDs are in (it
    watches HTTPRoutes only when their CRD is served at its start)."""
    operator_proc.install_crd(kubectl)
    gateway_api.install_crds(kubectl)
    proc = operator_proc.start_operator(kubeconfig, tmp_path_factory.mktemp("operator") / "operator.log")
    yield proc
    proc.stop()
