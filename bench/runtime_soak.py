"""Soak: small Clingo problems through HTTP for a while, against a runtime whose solver processes
must be recycled on the way (a low ``solver.memory_mb``), and every answer must still be right.

libclingo keeps 64 bytes of every ``Control`` it ever made; a solver process at its address-space
limit answered every later call UNKNOWN. The pool recycles a process before that (see
``evolved_runtime.solvers.pool``). Here ``wrk`` posts the benchmark's 3-colouring problem for
``--seconds`` and counts the answers whose verdict is SAT; the runtime's log says how often a
process was recycled and at what size.

    python -m bench.runtime_soak --seconds 150 --memory-mb 128
    python -m bench.runtime_soak --seconds 150 --memory-mb 128 --baseline REV   # an older runtime, to compare
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from bench.problems import body
from bench.runtime_tier1 import baseline_path, run_wrk, start_runtime
from e2e.paths import cache_dir

COUNTING = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) sat = 0; other = 0 end
function response(status, headers, body)
  if status == 200 and string.find(body, '"verdict":"SAT"', 1, true) then sat = sat + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local s, o = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("sat"); o = o + t:get("other") end
  io.write(string.format("SAT %d OTHER %d\\n", s, o))
end
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--memory-mb", type=int, default=128, help="the runtime's solver.memory_mb")
    parser.add_argument("--baseline", help="soak this git revision's runtime instead (to compare)")
    parser.add_argument("--output", default=str(cache_dir() / "bench-soak.json"))
    args = parser.parse_args(argv)
    script = Path(tempfile.mkdtemp()) / "count.lua"
    script.write_text(COUNTING.format(body=json.dumps(body("clingo"))))
    tree = baseline_path(args.baseline) if args.baseline else None
    proc, port = start_runtime(1, os.cpu_count() or 2, prefetch=2, pythonpath=tree, memory_mb=args.memory_mb)
    log_from = proc.log_path.stat().st_size
    try:
        print(f"soak: {args.seconds} s of Clingo requests, solver.memory_mb {args.memory_mb}"
              f"{f', the runtime of {args.baseline}' if args.baseline else ''}", flush=True)  # fmt: skip
        out = run_wrk(port, script, args.seconds)
    finally:
        proc.stop()
    with proc.log_path.open(errors="replace") as log:
        log.seek(log_from)
        recycled = [line for line in log if "recycling solver process" in line]
    counts = re.search(r"SAT (\d+) OTHER (\d+)", out)
    assert counts, out
    result = {
        "seconds": args.seconds,
        "memory_mb": args.memory_mb,
        "baseline": args.baseline,
        "sat": int(counts.group(1)),
        "other": int(counts.group(2)),
        "recycled": len(recycled),
        "recycle_messages": [json.loads(line)["message"] for line in recycled[:5]],
    }
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0 if result["other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
