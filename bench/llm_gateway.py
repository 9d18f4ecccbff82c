"""The LLM path against LiteLLM: the same fake upstream, the same load, in one run.

Setups, each in front of one fake OpenAI-compatible upstream (``bench.router_upstream``, raw ASGI
on uvicorn, keep-alive 120 s), every server one process on 127.0.0.1:

- ``direct``: the upstream itself;
- ``runtime, bare``: ``evolved-runtime serve``, Tier 0 passed through, no admission feature on;
- ``runtime, all on``: the same with API keys, request and token rate limits, the answer cache
  (memory; every request misses, as every body differs), a pipeline budget, metrics and one JSON
  log event per request (to a file);
- ``litellm``: LiteLLM's proxy (``litellm --config``, one worker, a master key, no database),
  from a venv outside the repository (``--litellm``, default
  ``~/.cache/evolved-pipelines/litellm-venv/bin/litellm``).

Per round, each setup in turn: ``wrk`` (1 thread, ``--connections``, ``--seconds``, a Lua script
posting a unique chat body per request, with the Bearer key where one is needed): req/s, p50 and
p99, and the CPU seconds of the setup's processes per request (so req/s per core = 1000 / CPU
ms per request). Then ``--pairs`` requests one at a time to each setup in turn (the order
rotating): the latency added over calling the upstream directly (medians of the differences).

    python -m bench.llm_gateway --rounds 3 --seconds 8
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import router_setups as setups
from bench.router import chat_body, cpu_of, machine, percentile, py_spy_binary, run_wrk, top_frames, wrk_script
from bench.runtime_tier1 import rotated
from e2e import processes
from e2e.paths import cache_dir

KEY = "sk-bench-key"
LITELLM = Path.home() / ".cache/evolved-pipelines/litellm-venv/bin/litellm"
GOAL_TIMES_LITELLM_PER_CORE = 30
GOAL_ADDED_P50_MS = 0.7


def script(auth: bool) -> Path:
    return wrk_script({"Authorization": f"Bearer {KEY}"} if auth else None)


def wait_answering(setup: setups.Setup, auth: bool, timeout: float = 90) -> setups.Setup:
    deadline = time.monotonic() + timeout
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {KEY}"} if auth else {})}
    while True:
        if any(not p.alive() for p in setup.procs):
            raise RuntimeError(f"{setup.name} exited:\n" + "\n".join(p.log_tail() for p in setup.procs))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", setup.port, timeout=5)
            conn.request("POST", setups.PATH, chat_body(0), headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
            if response.status == 200:
                tier = response.getheader("x-evolved-tier")
                if tier not in (None, "0"):
                    raise RuntimeError(f"{setup.name} answered at tier {tier}, not by the LLM: {data[:200]!r}")
                return setup
        except OSError:
            pass
        if time.monotonic() > deadline:
            setup.stop()
            raise RuntimeError(f"{setup.name} did not answer within {timeout:.0f}s")
        time.sleep(0.2)


def runtime_config(upstream: int, features: bool) -> dict[str, Any]:
    llm = {"base_url": f"http://127.0.0.1:{upstream}/v1", "model": "bench"}
    if not features:
        return {"pipeline": "bench", "variant": "bare", "llm": llm, "logging": {"requests": False}}
    return {
        "pipeline": "bench", "variant": "all-on", "llm": llm, "auth": {"api_keys_env": "BENCH_KEYS"},
        "limits": {"requests_per_minute": 100_000_000, "tokens_per_minute": 1_000_000_000},
        "cache": {"enabled": True}, "budgets": {"hourly_usd": 1_000_000},
        "logging": {"requests": True},
    }  # fmt: skip


def start_runtime(name: str, upstream: int, features: bool) -> setups.Setup:
    port = setups.free_port()
    path = cache_dir() / f"bench-llm-{name}.json"
    path.write_text(json.dumps(runtime_config(upstream, features)))
    script_path = Path(sys.executable).with_name("evolved-runtime")
    cli = [str(script_path)] if script_path.exists() else [sys.executable, "-m", "evolved_runtime.cli"]
    cmd = [*cli, "serve", "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
    proc = processes.start(name, cmd, cache_dir() / f"bench-llm-{name}.log", env={"BENCH_KEYS": KEY})
    return wait_answering(setups.Setup(name, port, [proc]), features)


def start_litellm(binary: Path, upstream: int) -> setups.Setup:
    port = setups.free_port()
    config = cache_dir() / "bench-llm-litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: bench\n    litellm_params:\n      model: openai/bench\n"
        f"      api_base: http://127.0.0.1:{upstream}/v1\n      api_key: unused\n"
        f"general_settings:\n  master_key: {KEY}\n"
    )
    cmd = [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    env = {"LITELLM_LOG": "ERROR", "DISABLE_SCHEMA_UPDATE": "true", "LITELLM_TELEMETRY": "False"}
    proc = processes.start("litellm", cmd, cache_dir() / "bench-llm-litellm.log", env=env)
    return wait_answering(setups.Setup("litellm", port, [proc]), True, timeout=180)


def measure(setup: setups.Setup, lua: Path, seconds: int, connections: int) -> dict[str, Any]:
    run_wrk(setup.url, lua, 2, connections)  # warm-up
    pids = setup.pids()
    before, started = cpu_of(pids), time.monotonic()
    result: dict[str, Any] = dict(run_wrk(setup.url, lua, seconds, connections))
    cpu = cpu_of(pids) - before
    served = max(1.0, result["requests"])
    result["cpu_ms"] = round(1000 * cpu / served, 4)
    result["cores"] = round(cpu / (time.monotonic() - started), 2)
    return result


def one_at_a_time(chosen: dict[str, setups.Setup], auth: dict[str, bool], pairs: int) -> dict[str, list[float]]:
    conns = {n: http.client.HTTPConnection("127.0.0.1", s.port, timeout=30) for n, s in chosen.items()}
    samples: dict[str, list[float]] = {n: [] for n in chosen}
    try:
        for i in range(pairs):
            for name in rotated(list(chosen), i + 1):
                headers = {
                    "Content-Type": "application/json",
                    **({"Authorization": f"Bearer {KEY}"} if auth[name] else {}),
                }
                start = time.perf_counter()
                conns[name].request("POST", setups.PATH, chat_body(10_000_000 + i), headers)
                response = conns[name].getresponse()
                response.read()
                samples[name].append(1000 * (time.perf_counter() - start))
                if response.status != 200:
                    raise RuntimeError(f"{name} answered {response.status}")
    finally:
        for conn in conns.values():
            conn.close()
    return samples


def profile(setup: setups.Setup, lua: Path, seconds: int, connections: int) -> str:
    """py-spy records ``setup`` while wrk loads it: the frames with the largest total share."""
    spy = py_spy_binary()
    if spy is None:
        return "no py-spy: pip install py-spy into ~/.cache/evolved-pipelines/py-spy-venv"
    raw = Path(tempfile.mkdtemp(prefix="bench-llm-spy-")) / "stacks.txt"
    pid = setup.procs[0].process.pid
    import subprocess

    spy_proc = subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250", "--format", "raw",
         "--nonblocking", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        run_wrk(setup.url, lua, seconds, connections)
    finally:
        spy_proc.wait(seconds + 30)
    samples, own, total = top_frames(raw, 400)
    lines = [f"py-spy, {samples} samples of {setup.name} under wrk; total share of its frames:"]
    ours = ("runtime/admission", "runtime/api", "runtime/llm", "runtime/logs", "runtime/metrics", "runtime/pipeline")
    lines += [f"  {share:5.1f}%  {frame}" for frame, share in total if any(part in frame for part in ours)]
    lines += ["own share (top 12):"] + [f"  {share:5.1f}%  {frame}" for frame, share in own[:12]]
    return "\n".join(lines)


def table(rounds: list[dict[str, dict[str, Any]]], samples: dict[str, list[float]]) -> str:
    lines = [
        "| setup | req/s (rounds) | p50 ms | p99 ms | CPU ms per request | req/s per core | added p50 ms | added p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    direct = samples["direct"]
    for name in rounds[0]:
        rows = [r[name] for r in rounds]
        rps = statistics.median(r["rps"] for r in rows)
        cpu = statistics.median(r["cpu_ms"] for r in rows)
        added = [s - d for s, d in zip(samples[name], direct, strict=True)]
        added_cells = (
            ("-", "-") if name == "direct" else (f"{statistics.median(added):+.3f}", f"{percentile(added, 0.99):+.3f}")
        )
        each = ", ".join(f"{r['rps']:,.0f}" for r in rows)
        lines.append(
            f"| {name} | {rps:,.0f} ({each}) "
            f"| {statistics.median(r['p50_ms'] for r in rows):.2f} | {statistics.median(r['p99_ms'] for r in rows):.2f} "
            f"| {cpu:.3f} | {1000 / cpu if cpu else float('nan'):,.0f} | {added_cells[0]} | {added_cells[1]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--litellm", type=Path, default=LITELLM, help="the litellm CLI (a venv outside the repo)")
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS", help="py-spy the runtime with all on")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: make system-deps")
    started: list[setups.Setup] = []
    try:
        upstream = setups.start_upstream("a")
        started.append(upstream)
        chosen = {"direct": upstream}
        auth = {"direct": False, "runtime, bare": False, "runtime, all on": True, "litellm": True}
        for name, features in (("runtime, bare", False), ("runtime, all on", True)):
            chosen[name] = start_runtime(name.replace(", ", "-").replace(" ", "-"), upstream.port, features)
            started.append(chosen[name])
        if args.litellm.exists():
            chosen["litellm"] = start_litellm(args.litellm, upstream.port)
            started.append(chosen["litellm"])
        else:
            print(f"no LiteLLM at {args.litellm}: pip install 'litellm[proxy]' into a venv there", file=sys.stderr)
        lua = {True: script(True), False: script(False)}
        rounds = []
        for round_no in range(1, args.rounds + 1):
            measured = {}
            for name in rotated(list(chosen), round_no):
                measured[name] = measure(chosen[name], lua[auth[name]], args.seconds, args.connections)
                print(f"round {round_no} {name}: {measured[name]['rps']:,.0f} req/s, p50 {measured[name]['p50_ms']} ms, "
                      f"CPU {measured[name]['cpu_ms']} ms per request", flush=True)  # fmt: skip
            rounds.append({n: measured[n] for n in chosen})
        samples = one_at_a_time(chosen, auth, args.pairs)
        print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}, load {os.getloadavg()[0]:.1f}")
        print(table(rounds, samples))
        if args.profile:
            print(profile(chosen["runtime, all on"], lua[True], args.profile, args.connections))
    finally:
        for setup in reversed(started):
            setup.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
