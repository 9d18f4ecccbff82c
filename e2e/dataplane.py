"""A pipeline's data plane as local processes, fed with exactly what the operator wrote to the API.

Pods on the local control plane are simulated by KWOK, so `make dev` and the end-to-end tests run
the workers and the router here: each variant's worker takes its config and programs from the
variant's ConfigMap (as a pod mounts them), and the router takes the weights from
``status.traffic`` (the operator's decision) and sticky and mirror from ``spec.traffic``.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e import processes
from e2e.kube import Kubectl, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@dataclass
class DataPlane:
    """Running workers (variant -> base URL) and, when started, the router's base URL."""

    workers: dict[str, str] = field(default_factory=dict)
    router: str | None = None
    running: list[processes.Background] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.running):
            proc.stop()


def worker_config(kubectl: Kubectl, namespace: str, pipeline: str, variant: str, workdir: Path) -> Path:
    """The variant's ``pipeline.json`` and programs from its ConfigMap, written as a pod mounts them."""
    configmap = kubectl.get("configmap", f"{pipeline}-{variant}", "-n", namespace)
    programs = workdir / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    config = json.loads(configmap["data"]["pipeline.json"])
    for key, value in configmap["data"].items():
        if key.endswith(".py"):
            (programs / key).write_text(value)
    if config.get("programs_dir"):
        config["programs_dir"] = str(programs)
    path = workdir / "pipeline.json"
    path.write_text(json.dumps(config))
    return path


def start_worker(
    plane: DataPlane, kubectl: Kubectl, namespace: str, pipeline: str, variant: str, workdir: Path, port: int = 0
) -> str:
    """One worker of ``variant``, configured from its ConfigMap (on ``port``, else a free one);
    returns its base URL once ready."""
    config = worker_config(kubectl, namespace, pipeline, variant, workdir / variant)
    port = port or free_port()
    program_hash = kubectl.get("deployment", f"{pipeline}-{variant}", "-n", namespace)["spec"]["template"]["metadata"][
        "annotations"
    ]["pipelines.evolved.io/program-hash"]
    proc = processes.start(
        f"worker-{variant}",
        [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(config),
         "--host", "127.0.0.1", "--port", str(port)],
        workdir / variant / "runtime.log",
        env={"EVOLVED_PIPELINE": pipeline, "EVOLVED_VARIANT": variant, "EVOLVED_PROGRAM_HASH": program_hash},
    )  # fmt: skip
    plane.running.append(proc)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"the {variant} worker to be ready", lambda: answers(f"{url}/ready") or not proc.alive(), timeout=90)
    if not proc.alive():
        raise RuntimeError(f"the {variant} worker exited:\n{proc.log_tail()}")
    plane.workers[variant] = url
    return url


def router_flags(pipeline: dict[str, Any], workers: dict[str, str]) -> list[str]:
    """`evolved-runtime router` flags for what the operator decided (``status.traffic``) and the
    user declared (``spec.traffic``)."""
    flags: list[str] = []
    for name, url in workers.items():
        flags += ["--variant", f"{name}={url}"]
    for entry in (pipeline.get("status") or {}).get("traffic", {}).get("variants", []):
        flags += ["--weight", f"{entry['name']}={entry['weight']}"]
    traffic = pipeline["spec"].get("traffic") or {}
    sticky = traffic.get("sticky") or {}
    if sticky.get("header"):
        flags += ["--sticky-header", sticky["header"]]
    if sticky.get("openAIUser"):
        flags.append("--sticky-openai-user")
    mirror = traffic.get("mirror")
    if mirror:
        flags += ["--mirror", f"{mirror['variant']}={mirror['percent']}"]
    return flags


def start_router(plane: DataPlane, pipeline: dict[str, Any], workdir: Path, port: int = 0) -> str:
    port = port or free_port()
    cmd = [sys.executable, "-m", "evolved_runtime.cli", "router", "--host", "127.0.0.1", "--port", str(port)]
    proc = processes.start("router", cmd + router_flags(pipeline, plane.workers), workdir / "router.log")
    plane.running.append(proc)
    url = f"http://127.0.0.1:{port}"
    wait_for("the router to be ready", lambda: answers(f"{url}/healthz") or not proc.alive(), timeout=60)
    if not proc.alive():
        raise RuntimeError(f"the router exited:\n{proc.log_tail()}")
    plane.router = url
    return url


@contextmanager
def running(
    kubectl: Kubectl,
    namespace: str,
    name: str,
    workdir: Path,
    router: bool = True,
    router_port: int = 0,
    worker_ports: Mapping[str, int] | None = None,
) -> Iterator[DataPlane]:
    """Every variant's worker (on its port in ``worker_ports``, else a free one) and (``router``) the
    router of pipeline ``name`` (on ``router_port``, else a free one); stopped on exit."""
    plane = DataPlane()
    try:
        pipeline = kubectl.get("evp", name, "-n", namespace)
        for variant in pipeline["spec"]["variants"]:
            port = (worker_ports or {}).get(variant["name"], 0)
            start_worker(plane, kubectl, namespace, name, variant["name"], workdir, port)
        if router:
            start_router(plane, pipeline, workdir, router_port)
        yield plane
    finally:
        plane.stop()
