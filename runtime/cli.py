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
    sub.add_parser("router", help="the traffic router (arrives with traffic splits)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "check":
        from evolved_runtime.programs.check import run_check

        return run_check(args.directory)
    print("evolved-runtime router: not available yet; it arrives with traffic splits", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
