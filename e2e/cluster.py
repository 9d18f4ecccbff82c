"""Start and stop the local control plane: real Kubernetes binaries, KWOK for nodes and pods.

``python -m e2e.cluster up`` builds (or reuses) the pinned binaries, starts etcd,
kube-apiserver, kube-controller-manager, kube-scheduler and the kwok controller as local
processes through ``kwokctl --runtime binary``, adds simulated nodes and prints the kubeconfig
path as its last line. ``python -m e2e.cluster down`` stops every process it started, by PID,
and removes the state. Everything lives under the cache (``~/.cache/evolved-pipelines``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from e2e import toolchain
from e2e.paths import cluster_dir

CLUSTER_NAME = "evolved"
NODES = 3


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


def workdir() -> Path:
    return cluster_dir() / "kwok"


def kubeconfig_path() -> Path:
    return cluster_dir() / "kubeconfig"


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


def up() -> Path:
    """Start the cluster (or reuse a healthy one) and return the kubeconfig path."""
    if is_healthy():
        log(f"cluster '{CLUSTER_NAME}' already running")
        return kubeconfig_path()
    if pid_files() or (workdir() / "clusters" / CLUSTER_NAME).exists():
        log("found state of a stopped cluster: cleaning it up first")
        down()
    toolchain.ensure()
    log("starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok")
    started = time.monotonic()
    _kwokctl(
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
        "--disable-qps-limits",
        # a /16 for Services: the default /24 holds 254, too few for the scale benchmark
        "--extra-args",
        "kube-apiserver=service-cluster-ip-range=10.96.0.0/16",
    )
    # Our own readiness wait: kwokctl's --wait also waits on checks that do not apply here.
    _wait("kube-apiserver /readyz", is_healthy, 120)
    _wait("the default ServiceAccount", _default_service_account, 120)
    log(f"control plane up in {time.monotonic() - started:.0f}s; adding {NODES} simulated nodes")
    _kwokctl("scale", "node", "--replicas", str(NODES))
    _wait("nodes to be Ready", _nodes_ready, 120)
    log(f"cluster ready in {time.monotonic() - started:.0f}s (pids: {running_pids()})")
    return kubeconfig_path()


def down() -> None:
    """Stop every process of the cluster (and the operator `make dev` started), by PID; remove the state."""
    from e2e import processes
    from e2e.paths import cache_dir

    if processes.stop_pidfile(cache_dir() / "operator.pid"):
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
