"""Rollouts measured on the local control plane (issue 21's benchmark).

1. Time from a failing measurement to weight 0 at the router: a candidate failing a fifth of its
   requests under load, the router source measuring every ``--interval`` s; the time between the
   measurement that failed (when the operator took it, from its log line) and the moment the
   router's ``GET /traffic`` shows the candidate at 0.
2. Client errors across a full promotion (two steps, two analyses) and across a rollback whose
   candidate answers wrongly but without errors (caught by mirrored agreement), under load.
3. The operator's CPU and peak memory while ``--pipelines`` canaries roll at once (to the pause
   of their second step).

    python -m bench.rollout --pipelines 100
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bench.operator_scale import apply_all, delete_namespace, ensure_nodes, vm_hwm_mb
from bench.procstat import cpu_seconds
from e2e import cluster, operator_proc
from e2e.candidates import FAILING, GOOD, WRONG, analysis, candidate_pipeline, unpause
from e2e.dataplane import free_port
from e2e.kube import Kubectl, wait_for
from e2e.paths import cache_dir
from e2e.rollout_plane import Load, following, prompts, wait_phase


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def candidate_weight(router: str) -> int | None:
    with urllib.request.urlopen(f"{router}/traffic", timeout=5) as reply:
        table = json.loads(reply.read())
    return next((v["weight"] for v in table["variants"] if v["name"] == "candidate"), None)


def rollback_latency(kubectl: Kubectl, namespace: str, work: Path, router_port: int, interval: int) -> dict[str, float]:
    """Seconds from the failing measurement to weight 0 at the router."""
    steps = [{"setWeight": 50}, analysis(intervalSeconds=interval, maxErrorRate=5)]
    obj = candidate_pipeline("slow-fail", namespace, {"router": FAILING}, steps)
    kubectl.run("apply", "--server-side", "--field-manager", "gitops", "-f", "-", stdin=yaml.safe_dump(obj))
    wait_for("children", lambda: kubectl.get("deployment", "slow-fail-candidate", "-n", namespace), 300)
    with following(kubectl, namespace, "slow-fail", work, router_port) as (plane, _):
        assert plane.router is not None
        load = Load(f"{plane.router}/v1/chat/completions", prompts())
        load.start()
        try:
            wait_for("load", lambda: load.total() >= 50, 60)
            unpause(kubectl, obj)
            wait_for("weight 50 at the router", lambda: candidate_weight(str(plane.router)) == 50, 120, interval=0.05)
            zero_at = wait_for(
                "weight 0 at the router",
                lambda: time.time() if candidate_weight(str(plane.router)) == 0 else None,
                120,
                interval=0.02,
            )
        finally:
            load.stop()
    rollout = wait_phase(kubectl, namespace, "slow-fail", {"RolledBack"}, 30)["status"]["rollout"]
    failed_at = _iso(rollout["analysis"][-1]["time"])  # whole seconds: the measurement happened in [t, t+1)
    return {"sample_to_router_s": zero_at - failed_at, "interval_s": float(interval)}


def errors_in(
    kubectl: Kubectl, namespace: str, obj: dict[str, Any], phases: set[str], work: Path, router_port: int
) -> tuple[int, int]:
    """(requests, client errors) through the router while ``obj`` rolls to one of ``phases``."""
    name = obj["metadata"]["name"]
    kubectl.run("apply", "--server-side", "--field-manager", "gitops", "-f", "-", stdin=yaml.safe_dump(obj))
    wait_for("children", lambda: kubectl.get("deployment", f"{name}-candidate", "-n", namespace), 300)
    with following(kubectl, namespace, name, work, router_port) as (plane, follower):
        load = Load(f"{plane.router}/v1/chat/completions", prompts())
        load.start()
        try:
            wait_for("load", lambda: load.total() >= 50, 60)
            unpause(kubectl, obj)
            wait_phase(kubectl, namespace, name, phases, 180)
            if "Completed" in phases:
                wait_for("the stable worker rolled", lambda: follower.restarts >= 1, 60)
                seen = load.total()
                wait_for("traffic after", lambda: load.total() >= seen + 100, 60)
        finally:
            load.stop()
    return load.total(), load.errors()


def errors_across(kubectl: Kubectl, namespace: str, work: Path, router_port: int) -> dict[str, int]:
    promotion = candidate_pipeline("promo", namespace, {"router": GOOD},
                                   [{"setWeight": 30}, analysis(maxErrorRate=1), {"setWeight": 60},
                                    analysis(maxErrorRate=1)])  # fmt: skip
    rollback = candidate_pipeline("roll", namespace, {"translation": WRONG}, [{"setWeight": 10}, analysis(minAgreement=95)],
                                  mirror={"variant": "candidate", "percent": 100})  # fmt: skip
    out: dict[str, int] = {}
    for label, obj, phases in (("promotion", promotion, {"Completed"}), ("rollback", rollback, {"RolledBack"})):
        total, errors = errors_in(kubectl, namespace, obj, phases, work / label, router_port)
        out[f"{label}_requests"], out[f"{label}_client_errors"] = total, errors
    return out


def canary(name: str, namespace: str) -> dict[str, Any]:
    obj = candidate_pipeline(name, namespace, {"router": GOOD}, [{"setWeight": 20}, {"pause": {"duration": "5s"}},
                                                                {"setWeight": 50}, {"pause": {}}])  # fmt: skip
    obj["spec"]["strategy"]["paused"] = False
    obj["spec"]["variants"][0]["replicas"] = 1
    obj["spec"]["traffic"] = {"router": {"replicas": 1}}
    return obj


def many_rolling(kubectl: Kubectl, kubeconfig: str, n: int, work: Path) -> dict[str, float]:
    """N canaries applied at once, until every one is Paused at its last step."""
    namespace = f"bench-roll-{uuid.uuid4().hex[:6]}"
    kubectl.run("create", "namespace", namespace)
    ensure_nodes(3 * n + 1000)  # stable, candidate and router pods, with room to spare
    operator = operator_proc.start_operator(kubeconfig, work / "operator-many.log")
    try:
        wait_for("the operator", lambda: "primed the cache" in operator.log_tail(200), 60)
        pid = operator.process.pid
        cpu_before, started = cpu_seconds(pid), time.monotonic()
        apply_all(kubectl, [canary(f"c{i}", namespace) for i in range(n)])

        def paused() -> bool:
            items = kubectl.items("evp", "-n", namespace)
            done = [o for o in items if ((o.get("status") or {}).get("rollout") or {}).get("step") == 3]
            return len(done) == n

        wait_for(f"{n} canaries at their last step", paused, timeout=900, interval=2.0)
        return {
            "pipelines": float(n),
            "seconds": time.monotonic() - started,
            "operator_cpu_s": cpu_seconds(pid) - cpu_before,
            "operator_peak_rss_mb": vm_hwm_mb(pid),
        }
    finally:
        operator.stop()
        delete_namespace(kubectl, namespace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rollout", description=__doc__)
    parser.add_argument("--pipelines", type=int, default=100)
    parser.add_argument("--interval", type=int, default=10, help="analysis interval of the rollback case (s)")
    args = parser.parse_args(argv)
    kubeconfig = str(cluster.up())
    kubectl = Kubectl(kubeconfig)
    operator_proc.install_crd(kubectl)
    work = cache_dir() / "bench-rollout"
    results: dict[str, Any] = {"load": Path("/proc/loadavg").read_text().split()[:3]}
    router_port = free_port()
    namespace = f"bench-e2e-{uuid.uuid4().hex[:6]}"
    kubectl.run("create", "namespace", namespace)
    os.environ["EVOLVED_ROUTER_METRICS_URL"] = f"http://127.0.0.1:{router_port}/metrics"
    operator = operator_proc.start_operator(kubeconfig, work / "operator.log")
    try:
        wait_for("the operator", lambda: "primed the cache" in operator.log_tail(200), 60)
        results["rollback"] = rollback_latency(kubectl, namespace, work / "rollback", router_port, args.interval)
        print(json.dumps({"rollback": results["rollback"]}), flush=True)
        results["errors"] = errors_across(kubectl, namespace, work / "errors", router_port)
        print(json.dumps({"errors": results["errors"]}), flush=True)
    finally:
        operator.stop()
        os.environ.pop("EVOLVED_ROUTER_METRICS_URL", None)
        delete_namespace(kubectl, namespace)
    results["scale"] = many_rolling(kubectl, kubeconfig, args.pipelines, work)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
