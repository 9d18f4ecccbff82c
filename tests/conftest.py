"""Session fixtures shared by every test layer: a Kubernetes cluster and a Docker engine.

Tests marked ``cluster`` get a kubeconfig: the cluster named by ``EVOLVED_TEST_KUBECONFIG``
when set (kind, or any cluster), else the local control plane (real binaries + KWOK), started
once per session. Tests marked ``docker`` get a running engine. Where these cannot be had the
tests skip, unless ``EVOLVED_REQUIRE_CLUSTER=1`` / ``EVOLVED_REQUIRE_DOCKER=1`` (CI) turn the
skip into a failure, so nothing is silently skipped there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e import cluster as local_cluster
from e2e import docker as local_docker
from e2e import toolchain


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0", "false")


def _unavailable(variable: str, why: str) -> None:
    if _required(variable):
        pytest.fail(f"{why} ({variable}=1 makes this a failure)", pytrace=False)
    pytest.skip(why)


def _binaries_built() -> bool:
    return all(toolchain.is_built(t) for t in toolchain.test_targets())


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[str]:
    """Path of a kubeconfig for a live cluster."""
    named = os.environ.get("EVOLVED_TEST_KUBECONFIG")
    if named:
        if not Path(named).is_file():
            _unavailable("EVOLVED_REQUIRE_CLUSTER", f"EVOLVED_TEST_KUBECONFIG={named} does not exist")
        yield named
        return
    started_here = False
    if not local_cluster.is_healthy():
        if not _binaries_built() and not _required("EVOLVED_REQUIRE_CLUSTER"):
            pytest.skip("no cluster: run `make cluster-up` (builds the control plane) or set EVOLVED_TEST_KUBECONFIG")
        try:
            local_cluster.up()
        except SystemExit as exc:
            _unavailable("EVOLVED_REQUIRE_CLUSTER", f"local control plane did not start: {exc}")
        started_here = True
    yield str(local_cluster.kubeconfig_path())
    if started_here and not _required("EVOLVED_KEEP_CLUSTER"):
        local_cluster.down()


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """A working Docker engine; returns the tag of the locally built Debian base image."""
    try:
        return local_docker.ensure_base_image()
    except (SystemExit, OSError) as exc:
        _unavailable("EVOLVED_REQUIRE_DOCKER", f"no Docker engine: {exc}")
        raise  # unreachable: _unavailable always raises


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked cluster/docker use their fixture even when they forget to ask for it."""
    for item in items:
        names = getattr(item, "fixturenames", None)
        if names is None:
            continue
        if item.get_closest_marker("cluster") and "kubeconfig" not in names:
            names.append("kubeconfig")
        if item.get_closest_marker("docker") and "docker_engine" not in names:
            names.append("docker_engine")
