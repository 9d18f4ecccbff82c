"""`make test` builds the control plane only; benchmark tools are built when a benchmark asks."""

from __future__ import annotations

from e2e import toolchain


def test_make_test_does_not_build_the_benchmark_load_generator() -> None:
    names = {binary for target in toolchain.test_targets() for binary in target.packages}
    assert {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok", "kwokctl", "helm"} <= names
    assert "vegeta" not in names


def test_the_benchmark_load_generator_has_a_pinned_cached_path() -> None:
    path = toolchain.binary("vegeta")
    assert toolchain.VEGETA_VERSION in str(path)
    assert path.name == "vegeta"
