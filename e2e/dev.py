"""`make dev`: the local control plane, the CRD, the operator, the quickstart pipeline, a question
answered, then the A/B example with its split shown.

Pods on the local control plane are simulated by KWOK, so the data plane runs as local processes
fed with exactly what the operator wrote to the API (``e2e.dataplane``): a variant's ConfigMap
(``pipeline.json`` and programs) becomes its worker's config, as it would in a pod, and the
pipeline's ``status.traffic`` the router's weights.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from e2e import cluster, dataplane, operator_proc
from e2e.kube import Kubectl, wait_for
from e2e.paths import cache_dir

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
AB_EXPERIMENT = ROOT / "examples" / "ab-experiment.yaml"
SPLIT_REQUESTS = 1000
USERS = ("alice", "bob", "victor", "zoe")
QUESTION = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def operator_pidfile() -> Path:
    return cache_dir() / "operator.pid"


def ensure_operator(kubeconfig: str) -> None:
    log = cache_dir() / "operator.log"
    proc = operator_proc.start_operator(kubeconfig, log)  # router analyses on loopback only (operator_proc)
    operator_pidfile().write_text(str(proc.process.pid))
    print(f"operator running (pid {proc.process.pid}, log {log})")


def _ready(obj: dict[str, Any] | None) -> bool:
    if not obj:
        return False
    status = obj.get("status", {})
    current = status.get("observedGeneration") == obj["metadata"]["generation"]
    return current and any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


def ask_through_the_pipeline(kubectl: Kubectl) -> None:
    from openai import OpenAI

    with dataplane.running(kubectl, "default", "quickstart", cache_dir() / "dev-runtime", router=False) as plane:
        client = OpenAI(base_url=f"{plane.workers['stable']}/v1", api_key="unused")
        reply = client.chat.completions.create(model="quickstart", messages=[{"role": "user", "content": QUESTION}])
        evolved = (reply.model_extra or {}).get("evolved", {})
        print(f"Q: {QUESTION}")
        print(f"A: {reply.choices[0].message.content}")
        print(f"   tier {evolved.get('tier')}, solver {evolved.get('solver')}, verdict {evolved.get('verdict')}")


def _post(url: str, body: bytes, headers: dict[str, str]) -> str:
    request = urllib.request.Request(url, body, {"content-type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=10) as reply:
        reply.read()
        return str(reply.headers.get("x-evolved-variant", "?"))


def show_the_split(kubectl: Kubectl, requests: int = SPLIT_REQUESTS) -> None:
    """Requests through the A/B pipeline's router, answers counted per variant next to the weights."""
    pipeline = kubectl.get("evp", "ab-experiment", "-n", "default")
    declared = {v["name"]: v["weight"] for v in pipeline["status"]["traffic"]["variants"]}
    body = json.dumps({"model": "ab-experiment", "messages": [{"role": "user", "content": "Solve 3x + 5 = 20"}]})
    with dataplane.running(kubectl, "default", "ab-experiment", cache_dir() / "dev-ab") as plane:
        url = f"{plane.router}/v1/chat/completions"
        with ThreadPoolExecutor(8) as pool:
            served = Counter(pool.map(lambda _: _post(url, body.encode(), {}), range(requests)))
            users = {u: {_post(url, body.encode(), {"X-User-ID": u}) for _ in range(5)} for u in USERS}
    print(
        f"{requests} requests through the router (status.traffic.weights {pipeline['status']['traffic']['weights']}):"
    )
    print(f"  {'variant':<10} {'declared':>8} {'served':>8}")
    for name, weight in declared.items():
        print(f"  {name:<10} {weight:>7}% {100 * served[name] / requests:>7.1f}%")
    for user, variants in users.items():
        print(f"  X-User-ID {user}: 5 requests, all to {', '.join(sorted(variants))}")


def main() -> int:
    started = time.monotonic()
    step("local control plane (real kube-apiserver, controller-manager, scheduler, etcd; KWOK nodes)")
    kubeconfig = str(cluster.up())
    kubectl = Kubectl(kubeconfig)
    print(kubectl.run("get", "nodes").stdout)
    step("CRD")
    operator_proc.install_crd(kubectl)
    print(operator_proc.CRD_NAME, "established")
    step("operator")
    ensure_operator(kubeconfig)
    step(f"apply {QUICKSTART.relative_to(ROOT)}")
    print(kubectl.run("apply", "--server-side", "-f", str(QUICKSTART)).stdout.strip())
    wait_for(
        "the quickstart pipeline to be Ready", lambda: _ready(kubectl.get("evp", "quickstart", "-n", "default")), 120
    )
    step("kubectl get evp")
    print(kubectl.run("get", "evp", "-A").stdout)
    step("a question through the quickstart pipeline's runtime (local process, config from its ConfigMap)")
    ask_through_the_pipeline(kubectl)
    step(f"apply {AB_EXPERIMENT.relative_to(ROOT)} (80/20 between two variants, sticky users)")
    print(kubectl.run("apply", "--server-side", "-f", str(AB_EXPERIMENT)).stdout.strip())
    wait_for(
        "the ab-experiment pipeline to be Ready",
        lambda: _ready(kubectl.get("evp", "ab-experiment", "-n", "default")),
        120,
    )
    print(kubectl.run("get", "evp", "ab-experiment", "-n", "default").stdout)
    step("the split: workers and the router as local processes, configured from what the operator wrote")
    show_the_split(kubectl)
    step(f"done in {time.monotonic() - started:.0f}s")
    print("the cluster and the operator keep running; `make cluster-down` stops both")
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(f"make dev failed: {exc}")
