"""`make dev`: the local control plane, the CRD, the operator, the quickstart pipeline, a question answered.

Pods on the local control plane are simulated by KWOK, so the data plane runs as a local
process fed with exactly what the operator wrote to the API: the variant's ConfigMap
(``pipeline.json`` and programs) becomes the runtime's config, as it would in a pod.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from e2e import cluster, operator_proc, processes
from e2e.kube import Kubectl, wait_for
from e2e.paths import cache_dir

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
QUESTION = "All cats are mammals. All mammals are animals. Therefore, all cats are animals."


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def operator_pidfile() -> Path:
    return cache_dir() / "operator.pid"


def ensure_operator(kubeconfig: str) -> None:
    log = cache_dir() / "operator.log"
    proc = operator_proc.start_operator(kubeconfig, log)
    operator_pidfile().write_text(str(proc.process.pid))
    print(f"operator running (pid {proc.process.pid}, log {log})")


def _ready(obj: dict[str, Any] | None) -> bool:
    if not obj:
        return False
    status = obj.get("status", {})
    current = status.get("observedGeneration") == obj["metadata"]["generation"]
    return current and any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ask_through_the_pipeline(kubectl: Kubectl) -> None:
    configmap = kubectl.get("configmap", "quickstart-stable", "-n", "default")
    workdir = cache_dir() / "dev-runtime"
    programs = workdir / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    config = json.loads(configmap["data"]["pipeline.json"])
    for key, value in configmap["data"].items():
        if key.endswith(".py"):
            (programs / key).write_text(value)
    if config.get("programs_dir"):
        config["programs_dir"] = str(programs)
    (workdir / "pipeline.json").write_text(json.dumps(config))
    port = _free_port()
    runtime = processes.start(
        "evolved-runtime",
        [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(workdir / "pipeline.json"),
         "--host", "127.0.0.1", "--port", str(port)],
        workdir / "runtime.log",
        env={"EVOLVED_PIPELINE": "quickstart", "EVOLVED_VARIANT": "stable"},
    )  # fmt: skip
    try:
        import urllib.request

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                    return bool(r.status == 200)
            except OSError:
                return False

        wait_for("the runtime to be ready", ready, timeout=60)
        from openai import OpenAI

        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused")
        reply = client.chat.completions.create(model="quickstart", messages=[{"role": "user", "content": QUESTION}])
        evolved = (reply.model_extra or {}).get("evolved", {})
        print(f"Q: {QUESTION}")
        print(f"A: {reply.choices[0].message.content}")
        print(f"   tier {evolved.get('tier')}, solver {evolved.get('solver')}, verdict {evolved.get('verdict')}")
    finally:
        runtime.stop()


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
    step(f"done in {time.monotonic() - started:.0f}s")
    print("the cluster and the operator keep running; `make cluster-down` stops both")
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(f"make dev failed: {exc}")
