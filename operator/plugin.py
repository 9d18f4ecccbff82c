"""`kubectl evolved ...`: a kubectl plugin for EvolvedPipelines.

`status NAME` shows conditions and variants. `promote` and `abort` arrive with progressive delivery.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def _status(name: str, namespace: str | None) -> int:
    cmd = ["kubectl", "get", "evolvedpipelines.pipelines.evolved.io", name, "-o", "json"]
    if namespace:
        cmd += ["-n", namespace]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    obj = json.loads(proc.stdout)
    status = obj.get("status", {})
    print(
        f"{obj['metadata']['name']}  generation {obj['metadata']['generation']}  observed {status.get('observedGeneration')}"
    )
    for cond in status.get("conditions", []):
        print(f"  {cond['type']:<12} {cond['status']:<8} {cond['reason']}: {cond.get('message', '')}")
    for v in status.get("variants", []):
        print(
            f"  variant {v['name']} ({v['role']}): {v['readyReplicas']}/{v['replicas']} ready, programs {v['programHash']}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubectl evolved")
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="conditions and variants of a pipeline")
    status.add_argument("name")
    status.add_argument("--namespace", "-n")
    for verb in ("promote", "abort"):
        later = sub.add_parser(verb, help=f"{verb} a canary (arrives with progressive delivery)")
        later.add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "status":
        return _status(args.name, args.namespace)
    print(f"kubectl evolved {args.command}: not available yet; it arrives with progressive delivery", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
