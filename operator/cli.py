"""`evolved-operator run | crd | docs`."""

from __future__ import annotations

import argparse
import logging
import sys

from evolved_operator import apidocs, crd


def _run(args: argparse.Namespace) -> int:
    import kopf

    from evolved_operator import handlers  # noqa: F401  (registers the handlers)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evolved-operator", description="The Evolved Pipelines operator.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the operator against the cluster of KUBECONFIG (or in-cluster)")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("--namespace", "-n", action="append", help="watch only this namespace (repeatable)")
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)")
    run.add_argument("--liveness", default="http://0.0.0.0:8081/healthz", help="liveness endpoint URL")
    run.add_argument("--verbose", "-v", action="store_true")
    out = sub.add_parser("crd", help="write the CRD generated from the models")
    out.add_argument("--output", "-o", default=str(crd.CRD_PATH))
    docs = sub.add_parser("docs", help="write docs/api.md generated from the models")
    docs.add_argument("--output", "-o", default=str(apidocs.DOC_PATH))
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "crd":
        from pathlib import Path

        print(crd.write(Path(args.output)))
        return 0
    from pathlib import Path

    print(apidocs.write(Path(args.output)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
