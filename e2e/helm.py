"""The operator's chart on a live cluster: helm install / upgrade / uninstall with the real helm,
a kubeconfig that authenticates as the chart's ServiceAccount (a token from the TokenRequest API),
and the operator run as a local process under that identity."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from e2e import chart, processes
from e2e.dataplane import free_port
from e2e.kube import Kubectl


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str

    @property
    def service_account(self) -> str:
        """The chart's full name: the release name when it holds the chart's name."""
        return self.name if "evolved-operator" in self.name else f"{self.name}-evolved-operator"

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


def helm(kubeconfig: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(chart.helm()), "--kubeconfig", kubeconfig, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def install(kubeconfig: str, release: Release, *values: str, upgrade: bool = False) -> subprocess.CompletedProcess[str]:
    """``helm install`` (or ``helm upgrade``) of the chart; ``values`` are ``--set`` strings. The
    CRD is left alone (the tests install it from crds/ and share it)."""
    verb = ["upgrade"] if upgrade else ["install"]
    sets = [a for v in values for a in ("--set", v)]
    return helm(
        kubeconfig,
        *verb,
        release.name,
        str(chart.CHART),
        "--namespace",
        release.namespace,
        "--skip-crds",
        "--wait",
        "--timeout",
        "120s",
        *sets,
    )


def uninstall(kubeconfig: str, release: Release) -> None:
    subprocess.run(
        [str(chart.helm()), "--kubeconfig", kubeconfig, "uninstall", release.name, "-n", release.namespace],
        capture_output=True,
        check=False,
        timeout=120,
    )


def token_kubeconfig(kubectl: Kubectl, release: Release, path: Path) -> Path:
    """A kubeconfig for the same apiserver that authenticates with a token of the release's
    ServiceAccount (``kubectl create token``), nothing of the admin's credentials."""
    token = kubectl.run(
        "create", "token", release.service_account, "-n", release.namespace, "--duration", "2h"
    ).stdout.strip()
    admin = yaml.safe_load(kubectl.run("config", "view", "--raw", "--minify", "--flatten").stdout)
    cluster = admin["clusters"][0]
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": release.service_account, "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": cluster["name"], "user": release.service_account}}],
        "current-context": "operator",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def can(kubectl: Kubectl, release: Release, *args: str) -> bool:
    """``kubectl auth can-i ... --as`` the release's ServiceAccount: the apiserver's own answer."""
    proc = kubectl.run("auth", "can-i", *args, "--as", release.user, check=False)
    return proc.stdout.strip() == "yes"


@contextmanager
def operator_as(kubeconfig: Path, log_path: Path, *extra: str) -> Iterator[processes.Background]:
    """``evolved-operator run`` as a local process with only the chart's identity (the args the
    chart's Deployment gives it, on local ports)."""
    cmd = [
        sys.executable,
        "-m",
        "evolved_operator.cli",
        "run",
        "--metrics-port",
        str(free_port()),
        "--liveness",
        f"http://127.0.0.1:{free_port()}/healthz",
        *(extra or ("--all-namespaces",)),
    ]
    proc = processes.start("evolved-operator", cmd, log_path, env={"KUBECONFIG": str(kubeconfig)})
    try:
        yield proc
    finally:
        proc.stop()


@contextmanager
def installed(kubeconfig: str, namespace: str, *values: str) -> Iterator[Release]:
    """The chart installed as a release of a fresh name in ``namespace``, uninstalled after."""
    release = Release(f"evo-{uuid.uuid4().hex[:6]}", namespace)
    try:
        install(kubeconfig, release, *values)
        yield release
    finally:
        uninstall(kubeconfig, release)


def restricted_namespace(kubectl: Kubectl) -> str:
    """A fresh namespace that enforces the restricted Pod Security Standard."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kubectl.run("create", "namespace", name)
    kubectl.run("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    return name
