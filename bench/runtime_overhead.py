"""Where the server's CPU per request goes: the runtime with its solver pool taken out, with
solver processes that answer at once, and as shipped, side by side.

Three servers (one uvicorn worker, a pool of one process per core, prefetch 2) take ``wrk``'s
maximum rate of the Tier 1 benchmark's problems in turn, for ``--rounds`` rounds:

- ``no pool``: ``SolverPool.solve`` returns the outcome of the first solve of the same problem,
  in the server (no pipe, no other process): HTTP, the chat handler and the answer alone;
- ``instant``: real solver processes whose solve returns the outcome they computed first: the
  pool's pipes and processes, with solves that take no time;
- ``as shipped``: the runtime as it is.

then each takes ``--rates`` requests per second, open loop (``vegeta``). The server's CPU
milliseconds per request of each, with the solver processes' and the load generator's, show what
HTTP, the pool and sharing two cores with busy solvers each cost, and how much of it is paid per
wake-up rather than per request: the same server at a lower rate handles fewer requests each
time it wakes (medians over rounds).

    python -m bench.runtime_overhead
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from bench.problems import PROBLEMS
from bench.runtime_tier1 import max_rate, open_loop, start_runtime, with_cpu
from e2e import processes
from evolved_runtime.solvers.backends import Backend, SolveOutcome, solve_task
from evolved_runtime.symil.formal import FormalTask

SERVE_AS = "--serve-as"
MODES = {"no pool": "no-pool", "instant": "instant", "as shipped": None}
_first: dict[tuple[str, str], SolveOutcome] = {}


def _once(task: FormalTask, backend: Backend, timeout_ms: int) -> SolveOutcome:
    """The outcome of the first solve of this problem on this back end, every time after."""
    key = (backend, repr(task))
    if key not in _first:
        _first[key] = solve_task(task, backend, timeout_ms)
    return _first[key]


def _serve_as(mode: str, cli_args: list[str]) -> int:
    """Run the runtime's CLI with its solver pool changed as ``mode`` says."""
    from evolved_runtime.cli import main as cli_main
    from evolved_runtime.solvers.pool import SolverPool

    if mode == "no-pool":

        async def solve(self: SolverPool, task: FormalTask, backend: Backend) -> SolveOutcome:
            return _once(task, backend, self.timeout_ms)

        SolverPool.solve = solve  # type: ignore[method-assign]
    elif mode == "instant":
        shipped_init = SolverPool.__init__

        def init(self: SolverPool, *args: Any, **kwargs: Any) -> None:
            shipped_init(self, *args, **{**kwargs, "fn": _once})

        SolverPool.__init__ = init  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return cli_main(cli_args)


def measurements(
    proc: processes.Background, port: int, kind: str, seconds: int, rates: list[int]
) -> list[tuple[str, dict[str, Any]]]:
    """The maximum rate, then each fixed rate, each with CPU milliseconds per request."""
    best = max_rate(proc, port, kind, seconds)
    out = [("max rate", best)]
    for rate in rates:

        def run(rate: int = rate) -> tuple[dict[str, Any], float]:
            sent = open_loop(port, kind, rate, seconds)
            return sent, sent["sent"]

        out.append((f"{rate} req/s", with_cpu(proc, run, "vegeta")))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the three servers")
    parser.add_argument(
        "--rates",
        type=int,
        nargs="*",
        default=[500],
        help="fixed request rates (open loop), under every server's maximum",
    )
    args = parser.parse_args(argv)
    servers = {}
    try:
        for label, mode in MODES.items():
            command = ("-m", "bench.runtime_overhead", SERVE_AS, mode) if mode else ("-m", "evolved_runtime.cli")
            servers[label] = start_runtime(1, 2, prefetch=2, command=command)
        rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for round_no in range(1, args.rounds + 1):
            for kind in PROBLEMS:
                for label, (proc, port) in servers.items():
                    for load, one in measurements(proc, port, kind, args.seconds, args.rates):
                        rows.setdefault((kind, f"{label}, {load}"), []).append(one)
                        print(f"round {round_no} {kind}, {label}, {load}: {one.get('rps', one.get('rate')):.0f} req/s,"
                              f" CPU ms per request {one['cpu_ms']}",
                              flush=True)  # fmt: skip
        print("medians:")
        for (kind, label), measured in rows.items():
            cpu = {
                part: round(statistics.median(m["cpu_ms"][part] for m in measured), 3) for part in measured[0]["cpu_ms"]
            }
            rate = statistics.median(m.get("rps", m.get("rate", 0)) for m in measured)
            print(f"  {kind}, {label}: {rate:.0f} req/s, CPU ms per request {cpu}")
    finally:
        for proc, _ in servers.values():
            proc.stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == SERVE_AS:
        sys.exit(_serve_as(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
