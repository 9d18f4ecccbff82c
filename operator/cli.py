"""`evolved-operator run | crd | docs`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from evolved_operator import apidocs, crd


def _run(args: argparse.Namespace) -> int:
    import kopf  # the operator's dependencies load only for `run`

    from evolved_operator import handlers  # registers the handlers

    handlers.METRICS_PORT = args.metrics_port
    handlers.NAMESPACES = list(args.namespace or [])

    if not args.verbose:  # per-request and per-handler lines drown what matters at scale
        for noisy in ("httpx", "httpx2", "httpcore", "kopf.objects", "kopf.activities.probe"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    namespaces = list(args.namespace or [])
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.JSON, log_prefix=False)
    kopf.run(
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=args.liveness,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="evolved-operator", description="The Evolved Pipelines operator.")
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the operator against the cluster of KUBECONFIG (or in-cluster)")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", action="append", help="watch only this namespace (repeatable)")
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)")
    run.add_argument("--liveness", default="http://0.0.0.0:8081/healthz", help="liveness endpoint URL")
    run.add_argument(
        "--metrics-port", type=int, default=0, help="serve the operator's Prometheus metrics on this port (0: off)"
    )
    run.add_argument("--verbose", "-v", action="store_true")
    out = sub.add_parser("crd", help="write the CRD generated from the models")
    out.add_argument("--output", "-o", type=Path, default=crd.CRD_PATH, help="where to write it (- for stdout)")
    docs = sub.add_parser("docs", help="write docs/api.md generated from the models")
    docs.add_argument("--output", "-o", type=Path, default=apidocs.DOC_PATH, help="where to write it (- for stdout)")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    render, write = (crd.render_yaml, crd.write) if args.command == "crd" else (apidocs.render, apidocs.write)
    if str(args.output) == "-":
        sys.stdout.write(render())
    else:
        print(write(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
