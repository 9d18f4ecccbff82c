"""The operator image: the shared runtime image (built from the root Dockerfile on the local Debian
base) with the chart's command, run as a container against the local control plane with nothing
but a token of the chart's ServiceAccount, as the chart's pod runs it (non-root, read-only root
filesystem, /tmp the only writable place)."""

from __future__ import annotations

import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from e2e import helm, image, operator_proc
from e2e.dataplane import answers, free_port
from e2e.evp import apply, pipeline, wait_ready
from e2e.kube import Kubectl, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.docker]

IN_CONTAINER = "/etc/evolved-operator/kubeconfig"


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


def test_the_image_runs_the_operator_with_the_charts_identity(
    kubeconfig: str, kubectl: Kubectl, docker_engine: str, tmp_path: Path
) -> None:
    tag = image.build()
    operator_proc.install_crd(kubectl)
    home = f"t-{uuid.uuid4().hex[:10]}"
    kubectl.run("create", "namespace", home)
    watched = helm.restricted_namespace(kubectl)
    try:
        with helm.installed(kubeconfig, home) as release:
            config = helm.token_kubeconfig(kubectl, release, tmp_path / "kubeconfig")
            config.chmod(0o644)  # read by the image's user (10001) through the bind mount
            health, metrics = free_port(), free_port()
            started = docker(
                "run", "-d", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
                "--user", "10001:10001", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "-v", f"{config}:{IN_CONTAINER}:ro", "-e", f"KUBECONFIG={IN_CONTAINER}",
                "-e", f"{operator_proc.ROUTER_METRICS_ENV}={operator_proc.LOOPBACK_ROUTER_METRICS_URL}",
                tag, "evolved-operator", "run", "--metrics-port", str(metrics),
                "--liveness", f"http://127.0.0.1:{health}/healthz", "--namespace", watched,
            )  # fmt: skip
            container = started.stdout.strip()
            try:
                wait_for("the liveness endpoint", lambda: answers(f"http://127.0.0.1:{health}/healthz"), timeout=90)
                apply(kubectl, pipeline("boxed", watched))
                wait_ready(kubectl, "boxed", watched, timeout=120)
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5) as reply:
                    exposed = reply.read().decode()
                assert f'evolved_operator_pipeline_ready{{namespace="{watched}",pipeline="boxed"}} 1.0' in exposed
                logs = docker("logs", container, check=False)
                assert release.user not in logs.stdout + logs.stderr, "the chart's RBAC refused a request"
            finally:  # the container is ours: stopped by its ID
                docker("rm", "-f", container, check=False)
    finally:
        for name in (watched, home):
            kubectl.run("delete", "namespace", name, "--wait=false", check=False)
