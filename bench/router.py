"""The router against calling a worker directly, nginx and Traefik, in one run on the same cores.

Two fake upstreams (``bench.router_upstream``: raw ASGI on uvicorn, a small fixed
``chat.completion``, keep-alive 120 s) play the variants ``a`` and ``b``; three proxies split
90/10 between them (``bench.router_setups``): ``evolved-runtime router`` (the real CLI), nginx
(one worker, weighted upstreams with keep-alive) and Traefik (file provider, a weighted service).
Everything listens on 127.0.0.1. Each round, in an order that starts one setup later every round:

1. the maximum rate: ``wrk`` (1 thread, ``--connections``, ``--seconds``, a Lua script posting a
   unique chat body per request) against each setup, after a short warm-up, with p50/p99 from
   wrk's latency distribution and the CPU milliseconds per request of the proxy's processes, of
   the upstreams and of wrk (``/proc``);
2. the added latency: ``--pairs`` iterations of one request at a time to each setup (direct
   included, the order rotating every iteration, so direct and proxied requests alternate), each
   answer checked byte for byte against the upstreams' (a benchmark of a broken proxy is
   worthless); added p50 and p99 are the proxied percentile minus the direct one, over all rounds.

Medians over rounds are reported; the ratios of the router's rate to nginx's and Traefik's are
taken within each round (the host's speed drifts between rounds). nginx is installed with
apt-get when missing (as root); Traefik is the binary ``make binaries`` builds, skipped with a
line saying so when it is missing. ``--profile SECONDS`` then records the router under the same
load with py-spy (``pip install py-spy``; found on PATH or in the cache's ``py-spy-venv``) and
prints where its CPU goes, ``--profile-native`` once more with the C frames below Python's.

    python -m bench.router
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import router_setups as setups
from bench.procstat import cpu_seconds, steal_counters, steal_share
from bench.router_upstream import answer
from bench.runtime_tier1 import rotated
from e2e.paths import cache_dir

SETUPS = ("direct", "router", "nginx", "traefik")
GOAL_ADDED_P50_MS = 0.3
GOAL_OF_TRAEFIK = 0.5
GOAL_OF_NGINX = 1 / 3
ANSWERS = {answer(name): name for name in setups.WEIGHTS}
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"model":"bench","messages":[{"role":"user","content":"Hello number ' .. n .. '"}]}')
end
"""


def chat_body(n: int) -> bytes:
    """The body of request ``n``: the one the Lua script sends, unique per request."""
    return b'{"model":"bench","messages":[{"role":"user","content":"Hello number %d"}]}' % n


def wrk_script(headers: dict[str, str] | None = None) -> Path:
    """wrk's Lua script posting :func:`chat_body` ``n`` as request ``n``, with extra ``headers``."""
    extra = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    script = Path(tempfile.mkdtemp(prefix="bench-wrk-")) / "post.lua"
    script.write_text(LUA % extra)
    return script


def parse_wrk(out: str) -> dict[str, float]:
    """req/s, p50/p99 (ms), requests and errors (non-2xx answers, socket errors) from wrk's report."""

    def number(pattern: str) -> float:
        match = re.search(pattern, out)
        if match is None:
            raise ValueError(f"wrk's report has no {pattern!r}:\n{out}")
        return float(match.group(1))

    def pct(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if match is None:
            raise ValueError(f"wrk's report has no {label}% latency:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": number(r"(\d+) requests in"),
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": float(sum(int(v) for v in sockets.groups())) if sockets else 0.0,
    }


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    return parse_wrk(out)


def cpu_of(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue  # gone: counted as nothing
    return total


def system_cpu_of(pids: set[int]) -> float:
    """The kernel's part of :func:`cpu_of` (stime in /proc/PID/stat)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[12]) / os.sysconf("SC_CLK_TCK")
    return total


def max_rate(setup: setups.Setup, upstream_pids: set[int], script: Path, args: argparse.Namespace) -> dict[str, Any]:
    """wrk's rate against ``setup``, with CPU milliseconds per request of the proxy, the upstreams and wrk."""
    if args.warmup:
        run_wrk(setup.url, script, args.warmup, args.connections)
    proxy_pids = setup.pids()
    stolen, proxy0, up0, sys0 = steal_counters(), cpu_of(proxy_pids), cpu_of(upstream_pids), system_cpu_of(proxy_pids)
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = dict(run_wrk(setup.url, script, args.seconds, args.connections))
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = max(1.0, result["requests"])
    wrk_cpu = wrk1.ru_utime + wrk1.ru_stime - wrk0.ru_utime - wrk0.ru_stime
    proxy_cpu = cpu_of(proxy_pids) - proxy0
    result["proxy_system_share"] = round((system_cpu_of(proxy_pids) - sys0) / proxy_cpu, 3) if proxy_cpu else None
    result["cpu_ms"] = {
        "proxy": round(1000 * proxy_cpu / served, 4) if proxy_pids else None,
        "upstreams": round(1000 * (cpu_of(upstream_pids) - up0) / served, 4),
        "wrk": round(1000 * wrk_cpu / served, 4),
    }
    result["steal"] = steal_share(stolen)
    return result


class BrokenProxy(AssertionError):
    """A setup answered something other than what an upstream sends."""


def one_at_a_time(
    chosen: dict[str, setups.Setup], pairs: int, first: int
) -> tuple[dict[str, list[float]], dict[str, Counter[str]]]:
    """``pairs`` iterations of one request to each setup in turn (the order rotating every
    iteration): milliseconds per request, and the variant that answered each, checked byte for byte."""
    names = list(chosen)
    conns = {n: http.client.HTTPConnection("127.0.0.1", s.port, timeout=10) for n, s in chosen.items()}
    samples: dict[str, list[float]] = {n: [] for n in names}
    variants: dict[str, Counter[str]] = {n: Counter() for n in names}
    headers = {"Content-Type": "application/json"}
    try:
        for i in range(pairs):
            for name in rotated(names, i + 1):
                body = chat_body(first + i)
                conn = conns[name]
                start = time.perf_counter()
                conn.request("POST", setups.PATH, body, headers)
                response = conn.getresponse()
                data = response.read()
                samples[name].append(1000 * (time.perf_counter() - start))
                variant = ANSWERS.get(data)
                if response.status != 200 or variant is None or (name == "direct" and variant != "a"):
                    raise BrokenProxy(f"{name} answered {response.status} {data[:200]!r}: not an upstream's answer")
                variants[name][variant] += 1
    finally:
        for conn in conns.values():
            conn.close()
    return samples, variants


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def total_cpu_ms(rate: dict[str, Any]) -> float:
    return float(sum(v for v in rate["cpu_ms"].values() if v is not None))


def summarize(
    rounds: list[dict[str, Any]], samples: dict[str, list[float]], variants: dict[str, Counter[str]]
) -> dict[str, Any]:
    names = list(samples)
    out: dict[str, Any] = {"setups": {}, "ratios": {}}
    direct = samples.get("direct")
    for name in names:
        rows = [r["rate"][name] for r in rounds]
        entry: dict[str, Any] = {
            "rps": round(median([r["rps"] for r in rows])),
            "rps_rounds": [round(r["rps"]) for r in rows],
            "p50_ms": round(median([r["p50_ms"] for r in rows]), 3),
            "p99_ms": round(median([r["p99_ms"] for r in rows]), 3),
            "errors": sum(r["non2xx"] + r["socket_errors"] for r in rows),
            "cpu_ms": {
                k: (None if rows[0]["cpu_ms"][k] is None else round(median([r["cpu_ms"][k] for r in rows]), 3))
                for k in rows[0]["cpu_ms"]
            },
            "proxy_system_share": None
            if rows[0]["proxy_system_share"] is None
            else round(median([r["proxy_system_share"] for r in rows]), 3),
            "one_at_a_time_p50_ms": round(percentile(samples[name], 0.5), 3),
            "one_at_a_time_p99_ms": round(percentile(samples[name], 0.99), 3),
            "answers": dict(variants[name]),
        }
        if direct and name != "direct":
            entry["added_p50_ms"] = round(percentile(samples[name], 0.5) - percentile(direct, 0.5), 3)
            entry["added_p99_ms"] = round(percentile(samples[name], 0.99) - percentile(direct, 0.99), 3)
        out["setups"][name] = entry
    for other in ("traefik", "nginx"):
        if "router" in names and other in names:
            ratios = [r["rate"]["router"]["rps"] / r["rate"][other]["rps"] for r in rounds]
            out["ratios"][f"router/{other}"] = {
                "median": round(median(ratios), 3),
                "rounds": [round(x, 3) for x in ratios],
            }
            # the same from CPU time: requests per CPU second of the whole setup (proxy, upstreams, wrk), which
            # the other processes on the machine change less than the rate they leave to each setup
            by_cpu = [total_cpu_ms(r["rate"][other]) / total_cpu_ms(r["rate"]["router"]) for r in rounds]
            out["ratios"][f"router/{other} by CPU"] = {"median": round(median(by_cpu), 3),
                                                       "rounds": [round(x, 3) for x in by_cpu]}  # fmt: skip
    return out


def goals(summary: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(goal, what was measured, met or not; None: not measured in this run)."""
    router = summary["setups"].get("router", {})
    ratios = summary["ratios"]
    added = router.get("added_p50_ms")
    rows: list[tuple[str, str, bool | None]] = [
        (f"added p50 at most {GOAL_ADDED_P50_MS} ms", "-" if added is None else f"+{added:.3f} ms",
         None if added is None else added <= GOAL_ADDED_P50_MS),
    ]  # fmt: skip
    for other, goal, text in (("traefik", GOAL_OF_TRAEFIK, "half"), ("nginx", GOAL_OF_NGINX, "a third")):
        ratio = ratios.get(f"router/{other}", {}).get("median")
        rows.append((f"at least {text} of {other}'s req/s", "-" if ratio is None else f"{ratio:.2f}x",
                     None if ratio is None else ratio >= goal))  # fmt: skip
    return rows


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "| setup | req/s (rounds) | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU ms per request: proxy / upstreams / wrk "
        "| answers a / b |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for name, e in summary["setups"].items():
        cpu = e["cpu_ms"]
        proxy = "-" if cpu["proxy"] is None else f"{cpu['proxy']:.3f} ({e['proxy_system_share']:.0%} kernel)"
        added = "-" if "added_p50_ms" not in e else f"{e['added_p50_ms']:+.3f}"
        added99 = "-" if "added_p99_ms" not in e else f"{e['added_p99_ms']:+.3f}"
        rounds = ", ".join(f"{r:,}" for r in e["rps_rounds"])
        bold = "**" if name == "router" else ""
        errors = f" ({e['errors']:.0f} errors)" if e["errors"] else ""
        lines.append(
            f"| {bold}{name}{bold} | {bold}{e['rps']:,}{bold} ({rounds}){errors} | {e['p50_ms']:.2f} | {e['p99_ms']:.2f} "
            f"| {added} | {added99} | {proxy} / {cpu['upstreams']:.3f} / {cpu['wrk']:.3f} "
            f"| {e['answers'].get('a', 0)} / {e['answers'].get('b', 0)} |"
        )
    lines.append("")
    for key, ratio in summary["ratios"].items():
        lines.append(
            f"- {key} req/s: **{ratio['median']:.2f}x** (rounds: {', '.join(f'{x:.2f}' for x in ratio['rounds'])})"
        )
    for goal, measured, met in goals(summary):
        verdict = "not measured" if met is None else "**met**" if met else "**not met**"
        lines.append(f"- goal: {goal}: {measured}, {verdict}")
    return "\n".join(lines)


def py_spy_binary() -> Path | None:
    found = shutil.which("py-spy")
    if found:
        return Path(found)
    cached = cache_dir() / "py-spy-venv" / "bin" / "py-spy"
    return cached if cached.exists() else None


def top_frames(raw: Path, count: int = 15) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """From py-spy's collapsed stacks: the samples, the top frames by own time and those by time
    including their callees (less the frames in nearly every sample: the event loop's own)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")[1:] or stack.split(";")  # the first is the thread
        samples += int(n)
        own[frames[-1]] += int(n)
        for frame in set(frames):
            total[frame] += int(n)
    share = max(1, samples)
    inner = [(f, 100 * c / share) for f, c in total.most_common() if c < 0.97 * share]
    return samples, [(f, 100 * c / share) for f, c in own.most_common(count)], inner[:count]


def profile_router(router: setups.Setup, script: Path, args: argparse.Namespace, native: bool) -> dict[str, Any]:
    """py-spy records the router for ``--profile`` seconds while wrk loads it: where its CPU goes.
    Python frames only, without pausing the router (``--nonblocking``); or with ``native`` also the
    C frames below them (uvloop, httptools, libc's system calls), pausing it for every sample."""
    py_spy = py_spy_binary()
    if py_spy is None:
        print(f"profile skipped: py-spy is missing (pip install py-spy, or into {cache_dir() / 'py-spy-venv'})")
        return {}
    out_dir = cache_dir() / "bench-router-profile"
    out_dir.mkdir(exist_ok=True)
    raw = out_dir / ("router-native.txt" if native else "router.txt")
    rate = 100
    record = [str(py_spy), "record", "--pid", str(router.procs[0].process.pid), "--duration", str(args.profile),
              "--rate", str(rate), "--function", "--format", "raw", "-o", str(raw)]  # fmt: skip
    spy = subprocess.Popen([*record, "--native" if native else "--nonblocking"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(1)  # py-spy attaches
    during = argparse.Namespace(**{**vars(args), "seconds": args.profile, "warmup": 0})
    measured = max_rate(router, set(), script, during)
    spy.wait(timeout=args.profile + 60)
    samples, own, total = top_frames(raw)
    busy = 100 * samples / max(1, rate * args.profile)
    kind = "Python and native frames" if native else "Python frames"
    print(f"\nprofile of the router ({kind}) under wrk: {measured['rps']:,.0f} req/s, {measured['cpu_ms']['proxy']} ms"
          f" CPU per request, {measured['proxy_system_share']:.0%} of it in the kernel; {samples} samples not idle of"
          f" {rate * args.profile} ({busy:.0f}%); raw stacks: {raw}")  # fmt: skip
    for title, rows in (("own time", own), ("time with callees", total)):
        print(f"top frames by {title}:")
        for frame, pct in rows:
            print(f"  {pct:5.1f}%  {frame}")
    return {"native": native, "rps": measured["rps"], "cpu_ms": measured["cpu_ms"]["proxy"],
            "system_share": measured["proxy_system_share"], "samples": samples, "busy_pct": round(busy, 1),
            "own": own, "total": total, "raw": str(raw)}  # fmt: skip


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def revision() -> str:
    """The commit the router runs from, and whether its code has changes not committed yet."""
    repo = Path(__file__).resolve().parent.parent
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "runtime/router"], cwd=repo, capture_output=True,
                           text=True, check=False).stdout.strip()  # fmt: skip
    return head.stdout.strip() + (" with uncommitted changes in runtime/router" if dirty else "")


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def start(args: argparse.Namespace) -> tuple[dict[str, setups.Setup], dict[str, setups.Setup], list[str]]:
    """(upstreams, the setups measured, lines saying what was skipped and why)."""
    upstreams: dict[str, setups.Setup] = {}
    chosen: dict[str, setups.Setup] = {}
    skipped: list[str] = []
    try:
        for name in setups.WEIGHTS:
            upstreams[name] = setups.start_upstream(name)
        for name in [s for s in SETUPS if s in args.setups]:
            if name == "direct":
                chosen[name] = setups.Setup("direct", upstreams["a"].port, note="upstream a")
            elif name == "router":
                chosen[name] = setups.start_router(upstreams)
            elif name == "nginx":
                binary, why = setups.nginx_binary(install=not args.no_install)
                if binary is None:
                    skipped.append(f"nginx: skipped, {why}")
                else:
                    chosen[name] = setups.start_nginx(binary, upstreams)
            else:
                binary, why = setups.traefik_binary()
                if binary is None:
                    skipped.append(f"Traefik: skipped, {why}")
                else:
                    chosen[name] = setups.start_traefik(binary, upstreams)
    except BaseException:
        for setup in [*chosen.values(), *upstreams.values()]:
            setup.stop()
        raise
    return upstreams, chosen, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every setup (wrk, then one at a time)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections (one thread)")
    parser.add_argument("--pairs", type=int, default=500, help="requests one at a time to each setup, per round")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each measured run (0: none)")
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=SETUPS, help="what to measure")
    parser.add_argument("--no-install", action="store_true", help="skip nginx when missing instead of apt-get")
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS",
                        help="then profile the router with py-spy for this long under wrk")  # fmt: skip
    parser.add_argument("--profile-native", action="store_true", help="with --profile: once more with C frames")
    parser.add_argument("--output", default=str(cache_dir() / "bench-router.json"))
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    command = f"python -m bench.router {shlex.join(sys.argv[1:] if argv is None else argv)}".strip()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    results: dict[str, Any] = {"command": command, "started": started, "machine": machine(), "load_before": load(),
                               "revision": revision(), "args": vars(args), "rounds": []}  # fmt: skip
    print(f"{command}\n{started}, {results['machine']}, router at {results['revision']},"
          f" load average {results['load_before']}", flush=True)  # fmt: skip
    upstreams, chosen, skipped = start(args)
    for line in skipped:
        print(line, flush=True)
    results["skipped"] = skipped
    results["notes"] = {n: s.note for n, s in chosen.items() if s.note}
    script = wrk_script()
    samples: dict[str, list[float]] = {n: [] for n in chosen}
    variants: dict[str, Counter[str]] = {n: Counter() for n in chosen}
    try:
        upstream_pids = set().union(*(u.pids() for u in upstreams.values()))
        for round_no in range(1, args.rounds + 1):
            entry: dict[str, Any] = {"round": round_no, "load": load(), "rate": {}}
            for name in rotated(list(chosen), round_no):
                best = entry["rate"][name] = max_rate(chosen[name], upstream_pids, script, args)
                print(f"round {round_no} {name}: {best['rps']:,.0f} req/s, p50 {best['p50_ms']:.2f} ms, p99"
                      f" {best['p99_ms']:.2f} ms, CPU ms per request {best['cpu_ms']}, steal {best['steal']:.0%}"
                      + (f", ERRORS {best['non2xx']:.0f} non-2xx {best['socket_errors']:.0f} socket" if best["non2xx"]
                         or best["socket_errors"] else ""), flush=True)  # fmt: skip
            got, seen = one_at_a_time(chosen, args.pairs, round_no * args.pairs)
            for name in chosen:
                samples[name] += got[name]
                variants[name] += seen[name]
            print(f"round {round_no} one at a time (p50 ms): "
                  + ", ".join(f"{n} {percentile(got[n], 0.5):.3f}" for n in chosen) + f"; load average {load()}",
                  flush=True)  # fmt: skip
            results["rounds"].append(entry)
        results["summary"] = summarize(results["rounds"], samples, variants)
        if args.profile and "router" in chosen:
            results["profile"] = [profile_router(chosen["router"], script, args, native=False)]
            if args.profile_native:
                results["profile"].append(profile_router(chosen["router"], script, args, native=True))
    finally:
        for setup in [*chosen.values(), *upstreams.values()]:
            setup.stop()
    results["load_after"] = load()
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(f"\n{command}  ({started}; router at {results['revision']}; load average {results['load_before']} before,"
          f" {results['load_after']} after)")  # fmt: skip
    print(markdown(results["summary"]))
    for name, note in results["notes"].items():
        print(f"  {name}: {note}")
    for line in skipped:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
