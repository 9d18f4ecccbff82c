"""`evolved-runtime serve | check | router`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from starlette.types import ASGIApp

from evolved_runtime.config import ConfigError, PipelineConfig, load_config


def build_app() -> ASGIApp:
    """The app factory uvicorn calls in each worker process (config from EVOLVED_CONFIG + env)."""
    from evolved_runtime import logs
    from evolved_runtime.app import create_app

    config = load_config()
    logs.setup(config.pipeline, config.variant)
    return create_app(config)


def _serve(args: argparse.Namespace) -> int:
    try:
        config: PipelineConfig = load_config(args.config)
    except ConfigError as exc:
        print(f"evolved-runtime: {exc}", file=sys.stderr)
        return 2
    if args.config:
        os.environ["EVOLVED_CONFIG"] = str(Path(args.config).resolve())
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # several processes share one /metrics; one worker keeps its samples in memory (the
        # multiprocess mode's mmap writes were 5% of the server's CPU per request)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="evolved-metrics-")
    import signal

    import uvicorn

    # uvicorn re-raises the signal it handled once it has shut down gracefully; with this handler
    # in place, that re-raise is a no-op and a SIGTERM that drained cleanly exits 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(
        "evolved_runtime.cli:build_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="evolved_runtime.http_protocol:HeadWithBodyProtocol",  # httptools; a response head leaves with its body
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(config.server.graceful_timeout_s),
        timeout_keep_alive=75,
        server_header=False,  # no "server: uvicorn" on every answer
        proxy_headers=False,  # nothing reads the client address; spares a middleware per request
    )
    return 0


def _router_flags(router: argparse.ArgumentParser) -> None:
    router.description = (
        "Local runs: --variant NAME=URL (repeat the name for more endpoints) with --weight NAME=N (weights sum to "
        "100; none given: the first variant takes 100). In a cluster: --pipeline and --namespace (or "
        "EVOLVED_PIPELINE and EVOLVED_NAMESPACE): weights, sticky keys, mirror and endpoints are watched from "
        "the API. See docs/runtime.md, 'The router'."
    )
    router.add_argument("--host", default="0.0.0.0")
    router.add_argument("--port", type=int, default=8080)
    router.add_argument("--variant", action="append", default=[], metavar="NAME=URL", help="a variant's worker")
    router.add_argument("--weight", action="append", default=[], metavar="NAME=N", help="a variant's weight, 0-100")
    router.add_argument("--sticky-header", metavar="NAME", help="requests with this header stick to a variant")
    router.add_argument("--sticky-openai-user", action="store_true", help="the body's `user` sticks to a variant")
    router.add_argument("--mirror", metavar="NAME=PERCENT", help="copy PERCENT%% of other variants' requests to NAME")
    router.add_argument("--pipeline", default=os.environ.get("EVOLVED_PIPELINE"), help="Kubernetes mode: the pipeline")
    router.add_argument(
        "--namespace", default=os.environ.get("EVOLVED_NAMESPACE"), help="Kubernetes mode: its namespace"
    )
    router.add_argument("--kubeconfig", help="Kubernetes mode: a kubeconfig (default: in-cluster, then ~/.kube/config)")
    router.add_argument("--connect-timeout", type=float, default=2.0, metavar="SECONDS")
    router.add_argument(
        "--response-timeout", type=float, default=300.0, metavar="SECONDS", help="until the answer's head"
    )
    router.add_argument(
        "--mirror-max-in-flight", type=int, default=64, metavar="N", help="more mirrored requests are dropped"
    )


def _router(args: argparse.Namespace) -> int:
    import time

    from evolved_runtime import logs
    from evolved_runtime.router import flags, server
    from evolved_runtime.router.proxy import Options

    def fail(message: str) -> int:
        print(f"evolved-runtime router: {message}", file=sys.stderr)
        return 2

    options = Options(args.connect_timeout, args.response_timeout, mirror_in_flight=args.mirror_max_in_flight)
    if args.variant:
        try:
            table = flags.table_from_flags(args.variant, args.weight, args.sticky_header, args.sticky_openai_user,
                                           args.mirror, time.time())  # fmt: skip
        except flags.FlagError as exc:
            return fail(str(exc))
        logs.setup("", "router")
        server.run(table, args.host, args.port, options)
        return 0
    if args.weight or args.mirror or args.sticky_header or args.sticky_openai_user:
        return fail("--weight, --mirror and --sticky-* go with --variant; in Kubernetes mode the pipeline sets them")
    if not args.pipeline or not args.namespace:
        return fail("give --variant NAME=URL (local run) or --pipeline NAME --namespace NS (Kubernetes mode)")
    from evolved_runtime.router import kube

    logs.setup(args.pipeline, "router")
    server.run(
        kube.empty_table(), args.host, args.port, options, kube.source(args.pipeline, args.namespace, args.kubeconfig)
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evolved-runtime", description="The Evolved Pipelines runtime worker.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the OpenAI-compatible API")
    serve.add_argument("--config", help="pipeline config file (default: $EVOLVED_CONFIG or /etc/evolved/pipeline.json)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    check = sub.add_parser("check", help="validate and smoke-test a directory of evolved programs")
    check.add_argument("directory")
    _router_flags(sub.add_parser("router", help="the pipeline's entry point: split, sticky keys, mirroring"))
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "check":
        from evolved_runtime.programs.check import run_check

        return run_check(args.directory)
    return _router(args)


if __name__ == "__main__":
    sys.exit(main())
