"""Tier 1 through HTTP against the same problems solved in-process (the limit), side by side.

Problems: a small integer linear equation in SMT-LIB 2 (Z3) and 3-colouring a 4-cycle in ASP
(Clingo, all models), sent as fenced formal input, so the request path is: HTTP -> pipeline ->
solver pool -> response, with no translation and no LLM.

The host's speed changes within minutes (a solve's CPU time tripled between two runs on an idle
machine, with no steal shown), so limit and HTTP are measured in alternation: each round, for
each problem, first

1. in-process: ``solve_task`` called in a loop by one process per core, for ``--seconds``;
2. then, right after it, the HTTP max rate: ``wrk`` (16 connections, a Lua script posting the
   chat body) against each server: ``evolved-runtime serve --workers 1`` for each
   ``--pool-size`` (default: one solver process per core), ``--prefetch`` (default: 0 and 2)
   and ``--cpu-affinity``, each round starting one server later (none always comes first);
3. then the latency at half each server's max rate of the round: ``vegeta attack`` at a
   fixed rate (open loop), for ``--seconds``;

the ratio is taken within the round, and the medians over ``--rounds`` of the ratio and of
the latencies are reported (a 5-second latency window is one host pause away from any p99).

``--baseline REV`` adds, for each configuration, a server running the runtime of another git
revision (a detached worktree in the cache, imported ahead of the installed package), measured in
the same rounds: a change's effect, side by side, with the same host drift on both.

    python -m bench.runtime_tier1
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.floor_servers import MODES as FLOOR_MODES
from bench.problems import PROBLEMS, body, formal_call
from bench.procstat import steal_counters, steal_share, tree_cpu
from e2e import processes, toolchain
from e2e.kube import wait_for
from e2e.paths import cache_dir


def _in_process_worker(kind: str, seconds: float, out: Any) -> None:
    from evolved_runtime.solvers.backends import solve_task

    task, backend = formal_call(PROBLEMS[kind])
    count = 0
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        solve_task(task, backend, 2000)
        count += 1
    out.put((count, time.process_time() - cpu))


def in_process_rate(kind: str, seconds: float, workers: int) -> tuple[float, float]:
    """Solves per second over ``workers`` processes, and CPU milliseconds per solve."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_in_process_worker, args=(kind, seconds, queue)) for _ in range(workers)]
    for p in procs:
        p.start()
    counts, cpus = zip(*(queue.get() for _ in procs), strict=True)
    for p in procs:
        p.join()
    return float(sum(counts)) / seconds, 1000 * sum(cpus) / max(1, sum(counts))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@functools.cache
def wrk_script(kind: str) -> Path:
    """The Lua script that makes ``wrk`` post the chat body of ``kind`` (written once per run)."""
    script = Path(tempfile.mkdtemp()) / f"post-{kind}.lua"
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = {json.dumps(body(kind))}\n'
    )
    return script


def run_wrk(port: int, script: Path, seconds: int, connections: int = 16) -> str:
    """``wrk``'s report of ``seconds`` of chat requests made by the Lua ``script`` (one thread)."""
    return subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/v1/chat/completions"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def wrk(port: int, kind: str, seconds: int, connections: int = 16, strict: bool = True) -> dict[str, float]:
    out = run_wrk(port, wrk_script(kind), seconds, connections)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx and strict:
        raise SystemExit(f"wrk saw {non2xx.group(1)} error responses:\n{out}")

    def pct(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": rate, "p50_ms": pct("50"), "p99_ms": pct("99")}


@functools.cache
def vegeta_binary() -> Path:
    """``vegeta``, built from its Go module on first use and cached like the control plane (once per run)."""
    toolchain.ensure(["vegeta"])
    return toolchain.binary("vegeta")


def open_loop(port: int, kind: str, rate: float, seconds: float) -> dict[str, float]:
    """Latency at a fixed request rate, open loop: ``vegeta attack`` sends on schedule whether or
    not earlier answers came back (a Go binary, so the generator's own pauses stay out of the
    numbers; an asyncio generator on the same two cores added its event loop's lag to the tail)."""
    vegeta = vegeta_binary()
    workdir = Path(tempfile.mkdtemp())
    (workdir / "body.json").write_text(body(kind))
    target = (
        f"POST http://127.0.0.1:{port}/v1/chat/completions\nContent-Type: application/json\n@{workdir / 'body.json'}\n"
    )
    attack = subprocess.run(
        [str(vegeta), "attack", f"-rate={round(rate)}/s", f"-duration={seconds:g}s", "-timeout=10s"],
        input=target.encode(), capture_output=True, check=True,
    ).stdout  # fmt: skip
    report = json.loads(
        subprocess.run([str(vegeta), "report", "-type=json"], input=attack, capture_output=True, check=True).stdout
    )
    codes = {int(k): v for k, v in (report.get("status_codes") or {}).items()}
    latencies = report["latencies"]
    return {
        "rate": round(rate, 1),
        "sent": int(report["requests"]),
        "errors": sum(v for k, v in codes.items() if k != 200),
        "p50_ms": latencies["50th"] / 1e6,
        "p99_ms": latencies["99th"] / 1e6,
    }


def baseline_path(rev: str) -> str:
    """A directory whose ``evolved_runtime`` is the runtime at git revision ``rev`` (for PYTHONPATH)."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=repo, capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    tree = cache_dir() / "bench-baseline" / commit[:12]
    if not (tree / "runtime").is_dir():
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(tree), commit], cwd=repo, check=True,
                       capture_output=True)  # fmt: skip
    link = tree / ".import" / "evolved_runtime"
    if not link.exists():
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(tree / "runtime")
    return str(link.parent)


def start_runtime(
    workers: int, pool_size: int = 1, cpu_affinity: str = "none", prefetch: int = 1, pythonpath: str | None = None,
    memory_mb: int = 512, command: tuple[str, ...] = ("-m", "evolved_runtime.cli"),
) -> tuple[processes.Background, int]:  # fmt: skip
    """A runtime serving on a free port, ready; ``command`` (after the interpreter) runs the
    runtime's CLI, or a wrapper taking the same arguments."""
    port = _free_port()
    config = Path(tempfile.mkdtemp()) / "pipeline.json"
    solver = {"pool_size": pool_size, "timeout_ms": 2000, "cpu_affinity": cpu_affinity, "prefetch": prefetch,
              "memory_mb": memory_mb}  # fmt: skip
    config.write_text(json.dumps({"pipeline": "bench", "variant": "v", "solver": solver}))
    proc = processes.start(
        "evolved-runtime",
        [sys.executable, *command, "serve", "--config", str(config), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        cache_dir() / "bench-runtime.log",
        env={"PYTHONPATH": pythonpath} if pythonpath else None,
    )  # fmt: skip

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    # readiness is per worker process: wait until many probes in a row (spread over workers) say ready
    try:
        wait_for("every worker to be ready", lambda: all(ready() for _ in range(20)), timeout=90)
    except BaseException:
        proc.stop()  # no server left behind (its log is cache_dir()/bench-runtime.log)
        raise
    return proc, port


def max_rate(proc: processes.Background, port: int, kind: str, seconds: int) -> dict[str, Any]:
    """``wrk``'s maximum rate, with CPU milliseconds per request (server, solvers, wrk) and steal."""
    wrk(port, kind, 1, strict=False)  # warm-up

    def run() -> tuple[dict[str, Any], float]:
        best = wrk(port, kind, seconds)
        return best, best["rps"] * seconds

    return with_cpu(proc, run, "wrk")


def with_cpu(proc: processes.Background, run: Callable[[], tuple[dict[str, Any], float]], load: str) -> dict[str, Any]:
    """``run``'s result (it returns the result and the requests it served) with the CPU
    milliseconds per request of the server, its solver processes and the load generator (a child
    process of this one, named ``load``), and the CPU steal meanwhile."""
    stolen, cpu_before = steal_counters(), tree_cpu(proc.process.pid)
    load_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result, served = run()
    load_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after, steal = tree_cpu(proc.process.pid), steal_share(stolen)
    cpu_ms = {k: round(1000 * (cpu_after[k] - cpu_before[k]) / served, 3) for k in cpu_after}
    load_cpu = load_after.ru_utime + load_after.ru_stime - load_before.ru_utime - load_before.ru_stime
    cpu_ms[load] = round(1000 * load_cpu / served, 3)
    return {**result, "cpu_ms": cpu_ms, "steal": steal}


def rotated(labels: list[str], round_no: int) -> list[str]:
    """``labels`` in this round's order: each round starts one server later, so none is always
    measured first, right after the in-process limit (the host's speed drifts within a round)."""
    shift = (round_no - 1) % max(1, len(labels))
    return labels[shift:] + labels[:shift]


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def summarize(rounds: list[dict[str, Any]], labels: list[str]) -> dict[str, Any]:
    """Per problem and server: the ratios and latencies of every round, and their medians."""
    summary: dict[str, Any] = {}
    for kind in PROBLEMS:
        for label in labels:
            rows = [r["http"][label] for r in rounds if r["problem"] == kind]
            entry = {
                "ratios": [r["ratio"] for r in rows],
                "median_ratio": median([r["ratio"] for r in rows]),
                "median_cpu_ratio": median([r["cpu_ratio"] for r in rows]),
                "p99s_at_half_rate_ms": [round(r["half_rate"]["p99_ms"], 1) for r in rows],
                "median_p50_at_half_rate_ms": median([r["half_rate"]["p50_ms"] for r in rows]),
                "median_p99_at_half_rate_ms": median([r["half_rate"]["p99_ms"] for r in rows]),
            }
            summary[f"{kind}, {label}"] = entry
            print(f"{kind}, {label}: median ratio {entry['median_ratio']:.0%} (rounds {entry['ratios']}),"
                  f" at half rate median p50 {entry['median_p50_at_half_rate_ms']:.2f} ms,"
                  f" median p99 {entry['median_p99_at_half_rate_ms']:.2f} ms (rounds {entry['p99s_at_half_rate_ms']})",
                  flush=True)  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="in-process / HTTP pairs per problem and server")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--pool-size", type=int, nargs="+", default=[os.cpu_count() or 2],
        help="solver processes per worker; each value is one server, measured side by side",
    )  # fmt: skip
    parser.add_argument(
        "--prefetch", type=int, nargs="+", default=[0, 2],
        help="the runtime's solver.prefetch; each value is one server per pool size",
    )  # fmt: skip
    parser.add_argument(
        "--cpu-affinity", nargs="+", default=["none"], choices=["none", "spread"],
        help="the runtime's solver.cpu_affinity; each value is one server per pool size and prefetch",
    )  # fmt: skip
    parser.add_argument("--baseline", help="also measure each configuration on this git revision's runtime")
    parser.add_argument(
        "--floors", action="store_true",
        help="also measure, per configuration, the servers of bench.floor_servers (a bare relay over the same "
             "pool, the chat handler without uvicorn, and a relay in Go)",
    )  # fmt: skip
    parser.add_argument("--output", default=str(cache_dir() / "bench-runtime.json"))
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    cores = os.cpu_count() or 2
    servers: dict[str, tuple[processes.Background, int]] = {}
    results: dict[str, Any] = {"cores": cores, "workers": args.workers, "seconds": args.seconds, "rounds": []}
    try:
        trees = {"": None} if not args.baseline else {"": None, f"{args.baseline}: ": baseline_path(args.baseline)}
        for (tag, tree), size, prefetch, affinity in itertools.product(
            trees.items(), args.pool_size, args.prefetch, args.cpu_affinity
        ):
            label = f"{tag}pool {size}, prefetch {prefetch}" + ("" if affinity == "none" else f", {affinity}")
            servers[label] = start_runtime(args.workers, size, affinity, prefetch, tree)
            if args.floors and not tag:
                for mode in FLOOR_MODES:
                    command = ("-m", "bench.floor_servers", mode)
                    servers[f"{mode}, {label}"] = start_runtime(1, size, affinity, prefetch, command=command)
        for round_no in range(1, args.rounds + 1):
            for kind in PROBLEMS:
                stolen = steal_counters()
                limit, cpu_per_solve = in_process_rate(kind, args.seconds, cores)
                entry: dict[str, Any] = {"round": round_no, "problem": kind, "in_process_rps": round(limit, 1),
                                         "in_process_cpu_ms": round(cpu_per_solve, 3),
                                         "in_process_steal": steal_share(stolen), "http": {}}  # fmt: skip
                print(f"round {round_no} {kind}: in-process {limit:.0f} solves/s, {cpu_per_solve:.2f} ms CPU per solve,"
                      f" steal {entry['in_process_steal']:.0%}", flush=True)  # fmt: skip
                order = rotated(list(servers), round_no)
                for label in order:
                    proc, port = servers[label]
                    best = max_rate(proc, port, kind, args.seconds)
                    best["ratio"] = round(best["rps"] / limit, 3)
                    # the same ratio from CPU time, which the hypervisor's steal does not distort
                    best["cpu_ratio"] = round(cpu_per_solve / sum(best["cpu_ms"].values()), 3)
                    entry["http"][label] = best
                    print(f"  {label}: HTTP {best['rps']:.0f} req/s ({best['ratio']:.0%}; by CPU {best['cpu_ratio']:.0%}),"
                          f" CPU ms per request {best['cpu_ms']}, steal {best['steal']:.0%}", flush=True)  # fmt: skip
                for label in order:
                    port = servers[label][1]
                    stolen = steal_counters()
                    half = open_loop(port, kind, entry["http"][label]["rps"] / 2, args.seconds)
                    half["steal"] = steal_share(stolen)
                    entry["http"][label]["half_rate"] = half
                    print(f"  {label}: at {half['rate']:.0f} req/s p50 {half['p50_ms']:.2f} ms, p99 {half['p99_ms']:.2f} ms,"
                          f" steal {half['steal']:.0%}", flush=True)  # fmt: skip
                results["rounds"].append(entry)
        results["summary"] = summarize(results["rounds"], list(servers))
    finally:
        for proc, _ in servers.values():
            proc.stop()
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(json.dumps(results["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
