"""Operator at scale on the local control plane: apply -> Ready for N pipelines of two variants.

For each N, in a fresh namespace: (1) the operator path: apply N EvolvedPipelines at once and
time until every one reports Ready for its generation; (2) the limit: apply the same 2N
Deployments directly (what the operator renders, without owner references) and time until all
are available. Both wait on Kubernetes' own controllers and KWOK. Then the operator's peak RSS
(VmHWM), its API requests per pipeline (its own counters, logged at shutdown), every write the
apiserver served per pipeline in each phase (by resource, from its own metrics), and a resync
check: every pipeline is touched by a label change and the resourceVersions of all children
must not move.

    python -m bench.operator_scale --sizes 1 100 1000
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from bench.procstat import cpu_between, cpu_by_name, steal_counters, steal_share
from e2e import cluster, operator_proc, toolchain
from e2e.kube import Kubectl, wait_for
from e2e.paths import cache_dir
from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.render import PipelineInput, render_all

NODES_PER_1000_PODS = 12


def pipeline(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "pipelines.evolved.io/v1alpha1",
        "kind": "EvolvedPipeline",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "variants": [
                {"name": "stable", "role": "stable", "replicas": 1},
                {"name": "candidate", "role": "candidate", "replicas": 1},
            ]
        },
    }


def direct_deployments(name: str, namespace: str) -> list[dict[str, Any]]:
    spec = EvolvedPipelineSpec.model_validate(pipeline(name, namespace)["spec"])
    out = []
    for obj in render_all(PipelineInput(name, namespace, "none", 1, spec)):
        if obj["kind"] == "Deployment":
            obj["metadata"].pop("ownerReferences")
            obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "bench-direct"
            out.append(obj)
    return out


def apply_all(kubectl: Kubectl, objects: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump_all(objects)
    kubectl.run("apply", "--server-side", "--field-manager", "bench", "-f", "-", stdin=text)


def count_ready_pipelines(kubectl: Kubectl, namespace: str) -> int:
    ready = 0
    for obj in kubectl.items("evp", "-n", namespace):
        status = obj.get("status", {})
        if status.get("observedGeneration") == obj["metadata"]["generation"] and any(
            c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
        ):
            ready += 1
    return ready


def count_available(kubectl: Kubectl, namespace: str) -> int:
    return sum(
        1
        for d in kubectl.items("deployments", "-n", namespace)
        if d.get("status", {}).get("availableReplicas", 0) >= d["spec"].get("replicas", 1)
    )


def timed_until(what: str, probe: Any, target: int, timeout: float) -> float:
    started = time.monotonic()
    last = -1
    while True:
        value = probe()
        if value != last:
            print(f"    {what}: {value}/{target} after {time.monotonic() - started:.1f}s", flush=True)
            last = value
        if value >= target:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{what}: only {value}/{target} after {timeout:.0f}s")
        time.sleep(1.0)


def delete_namespace(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("delete", "namespace", namespace, "--wait=true", "--timeout=600s", check=False)


def vm_hwm_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else 0.0


CONTROL_PLANE = ("kube-apiserver", "kube-controller", "kube-scheduler", "etcd", "kwok")


def process_cpu(extra: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of the control plane's processes (by name) and of ``extra`` (name -> pid)."""
    return cpu_by_name(CONTROL_PLANE, extra)


NOT_COUNTED = ("GET", "LIST", "WATCH", "DELETE", "DELETECOLLECTION")  # reads; deletes: an earlier namespace going away
REQUEST_TOTAL = re.compile(r"^apiserver_request_total\{(.*)\} ([0-9.e+]+)$", re.MULTILINE)


def apiserver_writes(kubectl: Kubectl) -> dict[str, float]:
    """Creating and updating requests the apiserver has served so far, by ``VERB resource[/subresource]`` (its own
    ``apiserver_request_total`` counter: every client, the controllers and the scheduler too)."""
    out: dict[str, float] = {}
    for labels, value in REQUEST_TOTAL.findall(kubectl.run("get", "--raw", "/metrics").stdout):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if fields.get("verb") in NOT_COUNTED or not fields.get("resource"):
            continue
        sub = fields.get("subresource")
        key = f"{fields['verb']} {fields['resource']}" + (f"/{sub}" if sub else "")
        out[key] = out.get(key, 0.0) + float(value)
    return out


def writes_between(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    """Writes per pipeline between two readings, largest first."""
    diff = {k: (v - before.get(k, 0.0)) / n for k, v in after.items()}
    return {k: round(v, 2) for k, v in sorted(diff.items(), key=lambda kv: -kv[1]) if v >= 0.005}


def child_versions(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    out = {}
    for kind in ("deployments", "services", "configmaps", "poddisruptionbudgets", "horizontalpodautoscalers"):
        for obj in kubectl.items(kind, "-n", namespace, "-l", "app.kubernetes.io/managed-by=evolved-operator"):
            out[f"{kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    return out


def operator_requests(log: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if "api requests" in line:
            match = re.search(r"api requests: (\{.*?\})", line.replace('\\"', '"'))
            if match:
                found = json.loads(match.group(1).replace("'", '"'))
    return found


def ensure_nodes(pods: int) -> None:
    """Enough simulated nodes for ``pods`` more pods (KWOK's nodes hold 110 each, like kubelet's)."""
    nodes = max(cluster.NODES, pods // 1000 * NODES_PER_1000_PODS + cluster.NODES)
    subprocess.run(
        [str(toolchain.binary("kwokctl")), "--name", cluster.CLUSTER_NAME, "scale", "node", "--replicas", str(nodes)],
        env=cluster._kwok_env(),
        check=True,
        capture_output=True,
    )


def run_size(kubectl: Kubectl, kubeconfig: str, n: int) -> dict[str, Any]:
    print(f"\n== {n} pipeline(s) of two variants", flush=True)
    ns_direct = f"bench-direct-{uuid.uuid4().hex[:6]}"
    kubectl.run("create", "namespace", ns_direct)
    objects = [d for i in range(n) for d in direct_deployments(f"p{i:04d}", ns_direct)]
    print("  direct Deployments (the limit)")
    cpu_direct_before = process_cpu({})
    writes_direct_before = apiserver_writes(kubectl)
    stolen_direct = steal_counters()
    started = time.monotonic()
    apply_all(kubectl, objects)
    direct = timed_until("available Deployments", lambda: count_available(kubectl, ns_direct), len(objects), 1800)
    direct_total = time.monotonic() - started
    cpu_direct_after = process_cpu({})
    writes_direct = writes_between(writes_direct_before, apiserver_writes(kubectl), n)
    steal_direct = steal_share(stolen_direct)
    cpu_direct = cpu_between(cpu_direct_before, cpu_direct_after)
    delete_namespace(kubectl, ns_direct)

    ns = f"bench-op-{uuid.uuid4().hex[:6]}"
    kubectl.run("create", "namespace", ns)
    log = cache_dir() / f"bench-operator-{n}.log"
    log.unlink(missing_ok=True)
    proc = operator_proc.start_operator(kubeconfig, log, "--namespace", ns)
    try:
        wait_for("the operator to start", lambda: "primed the cache" in log.read_text(errors="replace"), 60)
        print("  through the operator")
        cpu_before = process_cpu({"operator": proc.process.pid})
        writes_before = apiserver_writes(kubectl)
        stolen = steal_counters()
        started = time.monotonic()
        apply_all(kubectl, [pipeline(f"p{i:04d}", ns) for i in range(n)])
        timed_until("Ready pipelines", lambda: count_ready_pipelines(kubectl, ns), n, 1800)
        operator_total = time.monotonic() - started
        cpu_after = process_cpu({"operator": proc.process.pid})
        writes = writes_between(writes_before, apiserver_writes(kubectl), n)
        steal = steal_share(stolen)
        cpu = cpu_between(cpu_before, cpu_after)
        before = child_versions(kubectl, ns)
        print("  resync: a label change on every pipeline")
        kubectl.run("label", "evp", "--all", "-n", ns, "bench-resync=1", "--overwrite")
        time.sleep(10)  # benchmark only (never in tests): give the operator time to see every label event
        after = child_versions(kubectl, ns)
        moved = sum(1 for k, v in after.items() if before.get(k) != v)
        rss = vm_hwm_mb(proc.process.pid)
    finally:
        proc.stop()
    requests = operator_requests(log)
    delete_namespace(kubectl, ns)
    result = {
        "pipelines": n,
        "direct_s": round(direct_total, 1),
        "direct_available_s": round(direct, 1),
        "operator_s": round(operator_total, 1),
        "ratio": round(operator_total / direct_total, 2) if direct_total else None,
        "operator_peak_rss_mb": round(rss, 1),
        "api_requests": requests,
        "api_requests_per_pipeline": round(sum(requests.values()) / n, 1) if requests else None,
        "children_written_on_resync": moved,
        "steal_direct": steal_direct,
        "steal_operator": steal,
        "cpu_seconds_direct": cpu_direct,
        "cpu_seconds_apply_to_ready": cpu,
        "control_plane_writes_per_pipeline_direct": round(sum(writes_direct.values()), 1),
        "control_plane_writes_per_pipeline_operator": round(sum(writes.values()), 1),
        "writes_per_pipeline_direct": writes_direct,
        "writes_per_pipeline_operator": writes,
    }
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--output", default=str(cache_dir() / "bench-operator.json"))
    args = parser.parse_args(argv)
    kubeconfig = str(cluster.up())
    kubectl = Kubectl(kubeconfig)
    operator_proc.install_crd(kubectl)
    ensure_nodes(2 * max(args.sizes))
    results = [run_size(kubectl, kubeconfig, n) for n in args.sizes]
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
