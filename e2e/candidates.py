"""Candidate programs and canary pipelines the rollout tests and benchmark share: a candidate that
answers alike, one whose program fails a fifth of its live requests (it passes its smoke test), one
that answers wrongly without an error."""

from __future__ import annotations

from typing import Any

from e2e.evp import apply, pipeline
from e2e.kube import Kubectl

GOOD = "from evolved_runtime.programs.defaults.router import route  # generation 2: same answers\n"
FAILING = """import zlib
from evolved_runtime.programs.defaults.router import route as _route


def route(prompt, context):
    live = prompt.startswith("Solve 3x + ") and prompt != "Solve 3x + 5 = 20"  # passes its smoke test
    if live and zlib.crc32(prompt.encode()) % 5 == 0:
        raise RuntimeError("generation 13 fails on this prompt")
    return _route(prompt, context)
"""
WRONG = """from evolved_runtime.programs.defaults.translation import translate as _translate


def translate(prompt, level, hints, llm):
    return _translate(prompt + " and x > 100" if prompt.startswith("Solve") else prompt, level, hints, llm)
"""


def candidate_pipeline(
    name: str, namespace: str, programs: dict[str, Any], steps: list[dict[str, Any]], **traffic: Any
) -> dict[str, Any]:
    obj = pipeline(name, namespace)
    obj["spec"]["variants"][1]["programs"] = {c: {"inline": source} for c, source in programs.items()}
    obj["spec"]["strategy"] = {"type": "Canary", "steps": steps, "paused": True}
    if traffic:
        obj["spec"]["traffic"] = traffic
    return obj


def unpause(kubectl: Kubectl, obj: dict[str, Any]) -> None:
    obj["spec"]["strategy"]["paused"] = False
    apply(kubectl, obj)


def analysis(**settings: Any) -> dict[str, Any]:
    return {"analysis": {"intervalSeconds": 5, "minRequests": 10, **settings}}


def promoted_canary(name: str, namespace: str, prometheus_url: str) -> dict[str, Any]:
    """A good candidate in two steps (30%, 60%), each judged by an analysis on the Prometheus at
    ``prometheus_url``: the promotion scenario of the end-to-end tests."""
    checks = {"provider": "prometheus", "prometheusURL": prometheus_url, "maxErrorRate": 1}
    steps = [{"setWeight": 30}, analysis(**checks), {"setWeight": 60}, analysis(**checks)]
    return candidate_pipeline(name, namespace, {"router": GOOD}, steps)
