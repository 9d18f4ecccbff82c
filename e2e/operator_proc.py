"""Install the CRD and run the operator as a local process against a cluster."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from e2e import processes
from e2e.kube import Kubectl, wait_for

ROOT = Path(__file__).resolve().parent.parent
CRD_FILE = ROOT / "crds" / "evolvedpipelines.pipelines.evolved.io.yaml"
CRD_NAME = "evolvedpipelines.pipelines.evolved.io"
# An operator run here is a local process, outside any pod network: KWOK's pod IPs have no
# network behind them and are routed off this machine, so a canary's router analysis must not
# scrape them. Nothing listens on this port: such an analysis is Inconclusive (router unreachable).
# Tests that run routers as local processes pass their own URL.
LOOPBACK_ROUTER_METRICS_URL = "http://127.0.0.1:9/metrics"
ROUTER_METRICS_ENV = "EVOLVED_ROUTER_METRICS_URL"


def operator_env(kubeconfig: str, env: Mapping[str, str] | None, environ: Mapping[str, str]) -> dict[str, str]:
    """What a local operator gets on top of ``environ``: the kubeconfig, ``env``, and a router
    metrics URL on loopback unless ``env`` or ``environ`` names one."""
    url = (env or {}).get(ROUTER_METRICS_ENV) or environ.get(ROUTER_METRICS_ENV) or LOOPBACK_ROUTER_METRICS_URL
    return {**(env or {}), ROUTER_METRICS_ENV: url, "KUBECONFIG": kubeconfig}


def install_crd(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(CRD_FILE))

    def established() -> bool:
        crd = kubectl.get("crd", CRD_NAME) or {}
        return any(
            c["type"] == "Established" and c["status"] == "True" for c in crd.get("status", {}).get("conditions", [])
        )

    wait_for("the EvolvedPipeline CRD to be Established", established, timeout=60)


def stop_dev_operator() -> None:
    """Stop the operator `make dev` left running: two operators on one cluster would fight."""
    from e2e.paths import cache_dir

    processes.stop_pidfile(cache_dir() / "operator.pid")


def start_operator(
    kubeconfig: str, log_path: Path, *extra: str, env: dict[str, str] | None = None
) -> processes.Background:
    """Start `evolved-operator run` (all namespaces unless told otherwise; ``env`` added to its
    environment) and return its handle."""
    stop_dev_operator()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "evolved_operator.cli",
        "run",
        "--liveness",
        f"http://127.0.0.1:{port}/healthz",
        *extra,
    ]
    if not any(a.startswith("--namespace") for a in extra):
        cmd.append("--all-namespaces")
    return processes.start("evolved-operator", cmd, log_path, env=operator_env(kubeconfig, env, os.environ))
