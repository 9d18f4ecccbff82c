"""Start and stop the local control plane: real Kubernetes binaries, KWOK for nodes and pods.

``python -m e2e.cluster up`` builds (or reuses) the pinned binaries, starts etcd,
kube-apiserver, kube-controller-manager, kube-scheduler, the kwok controller and metrics-server
as local processes through ``kwokctl --runtime binary``, adds simulated nodes and prints the
kubeconfig path as its last line. ``python -m e2e.cluster down`` stops every process it started,
by PID, and removes the state. Everything lives under the cache (``~/.cache/evolved-pipelines``).

metrics-server serves the resource metrics API (``metrics.k8s.io``) from KWOK's simulated usage
(a pod's ``kwok.x-k8s.io/usage-cpu`` / ``usage-memory`` annotations, 1m and 1Mi without them),
so HorizontalPodAutoscalers scale on CPU; the HPA controller scales in after 10 s of lower
recommendations (5 min upstream).

``EVOLVED_CLUSTER_NAME`` starts a second, separate cluster (state in
``~/.cache/evolved-pipelines/cluster-<name>``) beside the default one, ``evolved``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from e2e import toolchain
from e2e.paths import cache_dir, cluster_dir

DEFAULT_NAME = "evolved"
CLUSTER_NAME = os.environ.get("EVOLVED_CLUSTER_NAME") or DEFAULT_NAME
NODES = 3
METRICS_API = "v1beta1.metrics.k8s.io"
# The HPA controller scales in after 10 s of lower recommendations (5 min upstream): tests wait on
# it. Its sync period stays the upstream 15 s: a new HPA is first processed one period after it
# is created, and tests that count a Deployment's writes right after a pipeline is Ready (the
# router's HPA raises it from 1 to its minimum of 2) rely on that grace.
HPA_DOWNSCALE_STABILIZATION = "10s"


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


def state_dir() -> Path:
    """``cluster/`` under the cache for the default cluster, ``cluster-<name>/`` for another."""
    if CLUSTER_NAME == DEFAULT_NAME:
        return cluster_dir()
    path = cache_dir() / f"cluster-{CLUSTER_NAME}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def workdir() -> Path:
    return state_dir() / "kwok"


def kubeconfig_path() -> Path:
    return state_dir() / "kubeconfig"


def kwokctl_config() -> str:
    """kwokctl's configuration beyond its flags: where metrics-server's manifests are (a folder
    kwokctl builds with ``kubectl kustomize``: no download) and the metrics-server flags that must
    replace kwokctl's own. metrics-server reaches each simulated node at its ``Hostname`` address,
    ``localhost`` (the kwok controller's port), never at its InternalIP (192.0.2.x: addresses of
    this machine's network, not of the simulated nodes)."""
    manifests = toolchain.target_dir("metrics-server-manifests", toolchain.METRICS_SERVER_VERSION)
    return (
        "apiVersion: config.kwok.x-k8s.io/v1alpha1\n"
        "kind: KwokctlConfiguration\n"
        "options:\n"
        f"  metricsServerManifests: [{json.dumps(str(manifests))}]\n"
        "componentsPatches:\n"
        "- name: metrics-server\n"
        "  extraArgs:\n"
        "  - {key: kubelet-preferred-address-types, value: Hostname, override: true}\n"
        "  - {key: metric-resolution, value: 10s, override: true}\n"
        "  - {key: kubelet-request-timeout, value: 5s, override: false}\n"
    )


def _kwok_env() -> dict[str, str]:
    env = dict(os.environ)
    env["KWOK_WORKDIR"] = str(workdir())
    env["KWOK_RUNTIME"] = "binary"
    env["KWOK_KUBE_VERSION"] = toolchain.KUBERNETES_VERSION
    # kwokctl prefers docker when a docker client exists: KWOK_RUNTIME and --runtime force binaries.
    return env


def _kwokctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [str(toolchain.binary("kwokctl")), "--name", CLUSTER_NAME, *args]
    proc = subprocess.run(cmd, env=_kwok_env(), text=True, capture_output=True, check=False)
    if check and proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"kwokctl failed ({proc.returncode}): {' '.join(args)}")
    return proc


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig_path()), *args],
        text=True,
        capture_output=True,
        check=False,
    )


def pid_files() -> list[Path]:
    root = workdir() / "clusters" / CLUSTER_NAME
    return sorted(root.rglob("*.pid")) if root.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pids() -> dict[str, int]:
    """Component name -> PID for every component process still alive."""
    out: dict[str, int] = {}
    for path in pid_files():
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            out[path.stem] = pid
    return out


def is_healthy() -> bool:
    if not kubeconfig_path().exists():
        return False
    proc = _kubectl("get", "--raw", "/readyz", "--request-timeout=5s")
    return proc.returncode == 0 and proc.stdout.strip() == "ok"


def _wait(what: str, predicate: object, timeout: float) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def _nodes_ready() -> bool:
    proc = _kubectl(
        "get", "nodes", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type=='Ready')].status}{'\\n'}{end}"
    )
    statuses = [s for s in proc.stdout.split() if s]
    return proc.returncode == 0 and len(statuses) >= NODES and all(s == "True" for s in statuses)


def _default_service_account() -> bool:
    return _kubectl("get", "serviceaccount", "default", "-n", "default").returncode == 0


def metrics_api_available() -> bool:
    """The resource metrics API answers through the aggregation layer (metrics-server is up)."""
    proc = _kubectl(
        "get", "apiservice", METRICS_API, "-o", "jsonpath={.status.conditions[?(@.type=='Available')].status}"
    )
    return proc.returncode == 0 and proc.stdout.strip() == "True"


def up() -> Path:
    """Start the cluster (or reuse a healthy one) and return the kubeconfig path."""
    if is_healthy():
        log(f"cluster '{CLUSTER_NAME}' already running")
        return kubeconfig_path()
    if pid_files() or (workdir() / "clusters" / CLUSTER_NAME).exists():
        log("found state of a stopped cluster: cleaning it up first")
        down()
    toolchain.ensure()
    log("starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and metrics-server")
    started = time.monotonic()
    config = state_dir() / "kwokctl.yaml"
    config.write_text(kwokctl_config())
    _kwokctl(
        "--config",
        str(config),
        "create",
        "cluster",
        "--runtime",
        "binary",
        "--kubeconfig",
        str(kubeconfig_path()),
        "--etcd-binary",
        str(toolchain.binary("etcd")),
        "--kube-apiserver-binary",
        str(toolchain.binary("kube-apiserver")),
        "--kube-controller-manager-binary",
        str(toolchain.binary("kube-controller-manager")),
        "--kube-scheduler-binary",
        str(toolchain.binary("kube-scheduler")),
        "--kwok-controller-binary",
        str(toolchain.binary("kwok")),
        "--enable",
        "metrics-server",
        "--metrics-server-binary",
        str(toolchain.binary("metrics-server")),
        "--disable-qps-limits",
        # a /16 for Services: the default /24 holds 254, too few for the scale benchmark
        "--extra-args",
        "kube-apiserver=service-cluster-ip-range=10.96.0.0/16",
        "--extra-args",
        f"kube-controller-manager=horizontal-pod-autoscaler-downscale-stabilization={HPA_DOWNSCALE_STABILIZATION}",
    )
    # Our own readiness wait: kwokctl's --wait also waits on checks that do not apply here.
    _wait("kube-apiserver /readyz", is_healthy, 120)
    _wait("the default ServiceAccount", _default_service_account, 120)
    log(f"control plane up in {time.monotonic() - started:.0f}s; adding {NODES} simulated nodes")
    _kwokctl("scale", "node", "--replicas", str(NODES))
    _wait("nodes to be Ready", _nodes_ready, 120)
    # An aggregated API that never comes up would also block every namespace deletion.
    _wait(f"the resource metrics API ({METRICS_API}) to be Available", metrics_api_available, 120)
    log(f"cluster ready in {time.monotonic() - started:.0f}s (pids: {running_pids()})")
    return kubeconfig_path()


def down() -> None:
    """Stop every process of the cluster (and the operator `make dev` started), by PID; remove the state."""
    from e2e import processes

    # `make dev` runs its operator against the default cluster only.
    if CLUSTER_NAME == DEFAULT_NAME and processes.stop_pidfile(cache_dir() / "operator.pid"):
        log("stopped the operator started by `make dev`")
    pids = running_pids()
    if workdir().exists():
        _kwokctl("delete", "cluster", check=False)
    for name, pid in pids.items():
        if _alive(pid):
            log(f"stopping {name} (pid {pid})")
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids.values()):
        time.sleep(0.2)
    for name, pid in pids.items():
        if _alive(pid):
            log(f"killing {name} (pid {pid})")
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["rm", "-rf", str(workdir()), str(kubeconfig_path())], check=False)
    log("cluster stopped and its state removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="local control plane (real binaries + KWOK)")
    parser.add_argument("action", choices=["up", "down", "status", "kubeconfig"])
    args = parser.parse_args(argv)
    if args.action == "up":
        print(up())
    elif args.action == "down":
        down()
    elif args.action == "status":
        healthy = is_healthy()
        print(f"healthy={healthy} pids={running_pids()}")
        return 0 if healthy else 1
    else:
        print(kubeconfig_path())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
