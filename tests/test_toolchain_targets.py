"""`make test` builds the control plane only; benchmark tools are built when a benchmark asks."""

from __future__ import annotations

import pytest
import yaml

from e2e import toolchain


def test_make_test_does_not_build_the_benchmark_load_generator() -> None:
    names = {binary for target in toolchain.test_targets() for binary in target.packages}
    assert {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok", "kwokctl", "helm"} <= names
    assert "vegeta" not in names


def test_the_benchmark_load_generator_has_a_pinned_cached_path() -> None:
    path = toolchain.binary("vegeta")
    assert toolchain.VEGETA_VERSION in str(path)
    assert path.name == "vegeta"


def test_make_test_builds_the_gateway_data_plane_pinned_together() -> None:
    names = {target.name for target in toolchain.test_targets()}
    assert {"traefik", "gateway-api"} <= names
    traefik = toolchain.binary("traefik")
    assert toolchain.TRAEFIK_VERSION in str(traefik)
    assert traefik.name == "traefik"


def test_an_unknown_target_is_refused_with_the_names_to_choose_from() -> None:
    with pytest.raises(SystemExit, match=r"unknown target\(s\) trafik: choose from .*traefik, gateway-api"):
        toolchain.ensure(["trafik"])


def test_make_test_builds_prometheus_for_the_analysis_without_service_discovery() -> None:
    (target,) = [t for t in toolchain.test_targets() if t.name == "prometheus"]
    assert isinstance(target, toolchain.Installed)
    assert target.tags == ("remove_all_sd",)
    assert "-X github.com/prometheus/common/version.Version=3.16.0" in target.ldflags
    path = toolchain.binary("prometheus")
    assert toolchain.PROMETHEUS_VERSION in str(path)
    assert path.name == "prometheus"


def test_make_test_builds_metrics_server_and_its_manifests_for_the_local_cluster() -> None:
    targets = {t.name: t for t in toolchain.test_targets()}
    server, manifests = targets["metrics-server"], targets["metrics-server-manifests"]
    assert isinstance(server, toolchain.Installed)
    assert f"-X k8s.io/client-go/pkg/version.gitVersion={toolchain.METRICS_SERVER_VERSION}" in server.ldflags
    assert isinstance(manifests, toolchain.Files)
    assert (manifests.module, manifests.folder) == ("sigs.k8s.io/metrics-server", "manifests/base")
    path = toolchain.binary("metrics-server")
    assert toolchain.METRICS_SERVER_VERSION in str(path)
    assert path.name == "metrics-server"


def test_the_local_cluster_scrapes_kwok_at_localhost_with_the_module_manifests() -> None:
    from e2e import cluster

    config = yaml.safe_load(cluster.kwokctl_config())
    assert config["kind"] == "KwokctlConfiguration"
    (manifests,) = config["options"]["metricsServerManifests"]
    assert manifests.endswith(f"metrics-server-manifests-{toolchain.METRICS_SERVER_VERSION}")
    (patch,) = config["componentsPatches"]
    args = {a["key"]: (a["value"], a["override"]) for a in patch["extraArgs"]}
    assert args["kubelet-preferred-address-types"] == ("Hostname", True)  # never the nodes' 192.0.2.x
    assert args["metric-resolution"] == ("10s", True)
