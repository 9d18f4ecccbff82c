"""`kubectl evolved ...`: a kubectl plugin for EvolvedPipelines.

`status NAME` shows conditions, variants, the traffic split and the rollout (phase, step, weights,
the last analysis with its measured values). `promote`, `abort`, `pause` and `resume` set the
declarative fields `spec.strategy.promote`, `abort` and `paused` (a merge patch with the field
manager `kubectl-evolved`) and print the rollout. With GitOps, set these fields in Git instead:
a sync would put the Git value back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

RESOURCE = "evolvedpipelines.pipelines.evolved.io"
PATCHES: dict[str, dict[str, Any]] = {
    "promote": {"promote": True, "abort": False},
    "abort": {"abort": True, "promote": False},
    "pause": {"paused": True},
    "resume": {"paused": False},
}


def _kubectl(args: list[str], namespace: str | None) -> subprocess.CompletedProcess[str]:
    cmd = ["kubectl", *args] + (["-n", namespace] if namespace else [])
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def describe(obj: dict[str, Any]) -> list[str]:
    """The lines `kubectl evolved status` prints for a pipeline (pure, for tests)."""
    status = obj.get("status", {})
    meta = obj["metadata"]
    lines = [f"{meta['name']}  generation {meta.get('generation')}  observed {status.get('observedGeneration')}"]
    for cond in status.get("conditions", []):
        lines.append(f"  {cond['type']:<12} {cond['status']:<8} {cond['reason']}: {cond.get('message', '')}")
    for v in status.get("variants", []):
        lines.append(
            f"  variant {v['name']} ({v['role']}): {v['readyReplicas']}/{v['replicas']} ready, programs {v['programHash']}"
        )
    flow = status.get("traffic")
    if flow:
        confirmed = (
            f", confirmed {flow['confirmedWeights']} at {flow['confirmedTime']}" if flow.get("confirmedTime") else ""
        )
        lines.append(f"  traffic ({flow['provider']}): {flow['weights']}{confirmed}")
        mirror = flow.get("mirror")
        if mirror:
            lines.append(
                f"  mirror: {mirror['percent']}% to {mirror['variant']}, {mirror['state']} {mirror.get('message', '')}"
            )
    rollout = status.get("rollout")
    if rollout:
        steps = len((obj.get("spec", {}).get("strategy") or {}).get("steps") or [])
        lines.append(
            f"  rollout {rollout['phase']}: step {rollout.get('step', 0)}/{steps}, candidate weight "
            f"{rollout.get('candidateWeight', 0)}, revision {rollout.get('revision', '')}"
        )
        if rollout.get("message"):
            lines.append(f"    {rollout['message']}")
        runs = rollout.get("analysis") or []
        if runs:
            last = runs[-1]
            lines.append(f"  last analysis {last['time']}: {last['verdict']}: {last.get('message', '')}")
            for check in last.get("checks") or []:
                value = check.get("value")
                lines.append(
                    f"    {check['name']:<24} {'-' if value is None else value:>10} limit {check.get('threshold', '-')}"
                    f"  {check['verdict']}"
                )
    return lines


def _status(name: str, namespace: str | None) -> int:
    proc = _kubectl(["get", RESOURCE, name, "-o", "json"], namespace)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    print("\n".join(describe(json.loads(proc.stdout))))
    return 0


def _set(verb: str, name: str, namespace: str | None) -> int:
    got = _kubectl(["get", RESOURCE, name, "-o", "json"], namespace)
    if got.returncode != 0:
        sys.stderr.write(got.stderr)
        return got.returncode
    kind = (json.loads(got.stdout).get("spec", {}).get("strategy") or {}).get("type") or "RollingUpdate"
    if kind == "RollingUpdate":
        sys.stderr.write(
            f"{name}: no rollout to {verb}: spec.strategy.type is RollingUpdate; promote, abort, pause and resume"
            " act on Canary and ABTest rollouts (docs/rollouts.md)\n"
        )
        return 1
    patch = json.dumps({"spec": {"strategy": PATCHES[verb]}})
    args = ["patch", RESOURCE, name, "--type", "merge", "--field-manager", "kubectl-evolved", "-p", patch]
    proc = _kubectl(args, namespace)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    print(f"{name}: spec.strategy {', '.join(f'{k}={str(v).lower()}' for k, v in PATCHES[verb].items())}")
    return _status(name, namespace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubectl evolved", description="EvolvedPipelines: status and rollouts.")
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {
        "status": "conditions, variants, traffic and the rollout of a pipeline",
        "promote": "skip the remaining steps and promote the candidate (spec.strategy.promote)",
        "abort": "roll the candidate back: weight 0 until the spec changes (spec.strategy.abort)",
        "pause": "hold the rollout at its step (spec.strategy.paused)",
        "resume": "go on from the step the rollout was held at",
    }
    for verb, text in helps.items():
        command = sub.add_parser(verb, help=text)
        command.add_argument("name")
        command.add_argument("--namespace", "-n")
    args = parser.parse_args(argv)
    if args.command == "status":
        return _status(args.name, args.namespace)
    return _set(args.command, args.name, args.namespace)


if __name__ == "__main__":
    sys.exit(main())
