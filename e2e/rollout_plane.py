"""A pipeline's data plane that follows a rollout, for the end-to-end tests and `make dev`.

Pods on the local control plane are simulated by KWOK, so the workers and the router run here
(``e2e.dataplane``) and a follower keeps them in step with what the operator writes, as kubelets
and the router's own watch would in a cluster:

- the router's weights follow ``status.traffic`` (``PUT /traffic`` on the local router);
- when the stable Deployment's pod template moves to other programs (a promotion), the stable
  worker is restarted on its port with the ConfigMap the operator wrote for it.

A load generator sends requests through the router and keeps every answer's status, variant
and verdict, so a test can say how many clients saw an error. ``run_rollout`` drives one rollout
with them, from the apply to its end, for the end-to-end tests (``start_operator`` starts the
operator they need).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e import dataplane, gateway_api, operator_proc
from e2e.candidates import unpause
from e2e.evp import apply
from e2e.kube import Kubectl, wait_for
from e2e.processes import Background

PROGRAM_HASH = "pipelines.evolved.io/program-hash"
FOLLOW_EVERY_S = 0.2
LOAD_LIMIT_S = 600.0  # a load generator stops by itself after this, whatever the test does
ROLLOUT_TIMEOUT_S = 150


def drained(weights: dict[str, int], variant: str) -> dict[str, int]:
    """``weights`` with ``variant``'s share moved to the other variants (to the first when they have none)."""
    others = [name for name in weights if name != variant]
    if not weights.get(variant) or not others:
        return dict(weights)
    out = {name: (0 if name == variant else w) for name, w in weights.items()}
    taking = [name for name in others if out[name] > 0] or others[:1]
    out[taking[0]] += 100 - sum(out.values())
    return out


def _put_weights(router: str, weights: dict[str, int]) -> None:
    request = urllib.request.Request(
        f"{router}/traffic",
        json.dumps({"weights": weights}).encode(),
        {"content-type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        reply.read()


@dataclass
class Follower:
    """Keeps the local router and stable worker in step with the operator (a thread)."""

    kubectl: Kubectl
    namespace: str
    name: str
    plane: dataplane.DataPlane
    workdir: Path
    stable: str
    weights: dict[str, int] = field(default_factory=dict)
    stable_programs: str = ""
    restarts: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"follow-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(FOLLOW_EVERY_S):
            try:
                self.step()
            except Exception as exc:  # kept for the test to show; the follower carries on
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def step(self) -> None:
        """A worker restarts only while the router sends it nothing (a promotion moves all traffic to
        the candidate before the stable pods roll, so this is the operator's own split; should the
        follower see it late, it takes the stable share off for the restart itself, as a rolling
        update's surge pods would carry it), and traffic returns to it only once it is back and
        ready (it answers ``/ready``, as a readiness probe would gate it)."""
        deployment = self.kubectl.get("deployment", f"{self.name}-{self.stable}", "-n", self.namespace) or {}
        programs = ((deployment.get("spec") or {}).get("template", {}).get("metadata", {}).get("annotations", {})).get(
            PROGRAM_HASH, ""
        )
        pipeline = self.kubectl.get("evp", self.name, "-n", self.namespace) or {}
        decided = {
            v["name"]: v["weight"] for v in (pipeline.get("status") or {}).get("traffic", {}).get("variants", [])
        }
        if programs and self.stable_programs and programs != self.stable_programs:
            self._push(drained(decided, self.stable))  # as a rolling update's surge would: no request lost
            self._restart_stable()
        self.stable_programs = programs or self.stable_programs
        self._push(decided)

    def _push(self, decided: dict[str, int]) -> None:
        if decided and decided != self.weights and self.plane.router is not None:
            _put_weights(self.plane.router, decided)
            self.weights = decided

    def _restart_stable(self) -> None:
        """The stable pods roll to other programs: a new worker on the same port, new config."""
        url = self.plane.workers[self.stable]
        old = next(p for p in self.plane.running if p.name == f"worker-{self.stable}" and p.alive())
        old.stop()
        self.plane.running.remove(old)
        port = int(url.rsplit(":", 1)[1])
        dataplane.start_worker(
            self.plane, self.kubectl, self.namespace, self.name, self.stable, self.workdir / f"r{self.restarts}", port
        )
        self.restarts += 1


@dataclass
class Load:
    """Requests through the router from a few threads until stopped; every outcome counted."""

    url: str
    prompts: list[str]
    threads: int = 4
    outcomes: Counter[tuple[int, str, str]] = field(default_factory=Counter)  # (status, variant, verdict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for i in range(self.threads):
            thread = threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            self._workers.append(thread)
            thread.start()

    def stop(self) -> Counter[tuple[int, str, str]]:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=30)
        return self.outcomes

    def errors(self) -> int:
        with self._lock:
            return sum(n for (status, _, _), n in self.outcomes.items() if status >= 400)

    def total(self) -> int:
        with self._lock:
            return sum(self.outcomes.values())

    def _run(self, offset: int) -> None:
        sent = offset
        stop_at = threading.Event()
        timer = threading.Timer(LOAD_LIMIT_S, stop_at.set)
        timer.daemon = True
        timer.start()
        while not self._stop.is_set() and not stop_at.is_set():
            prompt = self.prompts[sent % len(self.prompts)]
            sent += self.threads
            body = json.dumps({"model": "evolved", "messages": [{"role": "user", "content": prompt}]}).encode()
            request = urllib.request.Request(self.url, body, {"content-type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    reply.read()
                    outcome = (
                        reply.status,
                        reply.headers.get("x-evolved-variant", ""),
                        reply.headers.get("x-evolved-verdict", ""),
                    )
            except urllib.error.HTTPError as exc:
                outcome = (exc.code, exc.headers.get("x-evolved-variant", ""), "")
            except OSError:
                outcome = (599, "", "")  # no answer at all
            with self._lock:
                self.outcomes[outcome] += 1
        timer.cancel()


def prompts(count: int = 60) -> list[str]:
    """Equations with a whole solution each, all different (so answers are not cached)."""
    return [f"Solve 3x + {n % 50 + 1} = {3 * (n // 50 + 2) + n % 50 + 1}" for n in range(count)]


@contextmanager
def following(
    kubectl: Kubectl,
    namespace: str,
    name: str,
    workdir: Path,
    router_port: int,
    worker_ports: Mapping[str, int] | None = None,
) -> Iterator[tuple[dataplane.DataPlane, Follower]]:
    """Workers (on ``worker_ports``, else free ports), the router (on ``router_port``) and a follower
    for pipeline ``name``."""
    with dataplane.running(
        kubectl, namespace, name, workdir, router_port=router_port, worker_ports=worker_ports
    ) as plane:
        pipeline = kubectl.get("evp", name, "-n", namespace)
        stable = next(v["name"] for v in pipeline["spec"]["variants"] if v.get("role", "stable") == "stable")
        follower = Follower(kubectl, namespace, name, plane, workdir, stable)
        follower.step()
        follower.start()
        try:
            yield plane, follower
        finally:
            follower.stop()


def start_operator(kubeconfig: str, kubectl: Kubectl, router_port: int, log_path: Path, *extra: str) -> Background:
    """The operator (after its CRD and the Gateway API CRDs, as the cluster tests' ``operator``
    fixture starts it), told where the local router's metrics are (in a cluster: its Service)."""
    operator_proc.install_crd(kubectl)
    gateway_api.install_crds(kubectl)
    metrics_url = f"http://127.0.0.1:{router_port}/metrics"
    return operator_proc.start_operator(kubeconfig, log_path, *extra, env={"EVOLVED_ROUTER_METRICS_URL": metrics_url})


def run_rollout(
    kubectl: Kubectl,
    namespace: str,
    obj: dict[str, Any],
    workdir: Path,
    router_port: int,
    phases: set[str],
    *,
    load_prompts: list[str] | None = None,
    worker_ports: Mapping[str, int] | None = None,
    observe: Callable[[dataplane.DataPlane], None] | None = None,
) -> tuple[dict[str, Any], Load, int]:
    """Apply ``obj`` (paused), start its data plane and a load of ``load_prompts`` (default:
    ``prompts()``), unpause, wait for one of ``phases``. After a promotion, wait for the stable
    worker's restart and more traffic, then ``observe`` the data plane (the load still running).
    Returns the pipeline as last read, the load and the stable worker's restarts."""
    name = obj["metadata"]["name"]
    apply(kubectl, obj)
    wait_for("the pipeline's children", lambda: kubectl.get("configmap", f"{name}-candidate", "-n", namespace), 60)
    wait_for("the Deployments", lambda: kubectl.get("deployment", f"{name}-candidate", "-n", namespace), 60)
    with following(kubectl, namespace, name, workdir, router_port, worker_ports) as (plane, follower):
        load = Load(f"{plane.router}/v1/chat/completions", load_prompts or prompts())
        load.start()
        try:
            wait_for("traffic through the router", lambda: load.total() >= 50, timeout=60)
            unpause(kubectl, obj)
            final = wait_phase(kubectl, namespace, name, phases, ROLLOUT_TIMEOUT_S)
            if final["status"]["rollout"]["phase"] == "Completed":  # the stable worker has rolled too
                wait_for("the stable worker on the promoted programs", lambda: follower.restarts >= 1, timeout=30)
                seen = load.total()
                wait_for("more traffic after the promotion", lambda: load.total() >= seen + 50, timeout=60)
                if observe is not None:
                    observe(plane)
        finally:
            load.stop()
        assert not follower.errors, follower.errors
        return final, load, follower.restarts


def wait_phase(kubectl: Kubectl, namespace: str, name: str, phases: set[str], timeout: float) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        obj = kubectl.get("evp", name, "-n", namespace) or {}
        return obj if ((obj.get("status") or {}).get("rollout") or {}).get("phase") in phases else None

    return wait_for(f"{name} rollout in {sorted(phases)}", reached, timeout=timeout)


__all__ = ["Follower", "Load", "following", "prompts", "run_rollout", "start_operator", "wait_phase"]
