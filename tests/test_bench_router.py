"""The router benchmark (bench/router.py) in a tiny mode: it measures, and what it measures is a
working proxy (the router's answers are the upstreams' own, from both variants).

Only the upstreams and the router: nginx and Traefik are the benchmark's business, not the tests'.
No timing is asserted: the machine is shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import router as bench
from bench import router_setups as setups
from bench.procstat import processes
from bench.router_upstream import answer


def test_the_tiny_benchmark_measures_the_router_against_the_upstream(tmp_path: Path) -> None:
    out = tmp_path / "bench-router.json"
    argv = ["--seconds", "1", "--rounds", "1", "--pairs", "40", "--warmup", "0", "--setups", "direct", "router"]
    assert bench.main([*argv, "--output", str(out)]) == 0
    results = json.loads(out.read_text())
    summary = results["summary"]
    assert set(summary["setups"]) == {"direct", "router"}
    for name, entry in summary["setups"].items():
        assert entry["rps"] > 0, (name, entry)
        assert 0 < entry["p50_ms"] <= entry["p99_ms"], (name, entry)
        assert entry["errors"] == 0, (name, entry)
        assert min(entry["cpu_ms"]["upstreams"], entry["cpu_ms"]["wrk"]) >= 0, (name, entry)
        assert sum(entry["answers"].values()) == 40  # every answer one at a time was checked byte for byte
    assert summary["setups"]["direct"]["answers"] == {"a": 40}
    assert summary["setups"]["router"]["cpu_ms"]["proxy"] is not None
    assert isinstance(summary["setups"]["router"]["added_p50_ms"], float)
    assert summary["ratios"] == {}  # neither nginx nor Traefik ran
    assert results["command"] == "python -m bench.router " + " ".join([*argv, "--output", str(out)])
    assert "| **router** |" in bench.markdown(summary)


def test_the_routers_answers_are_the_upstreams_from_both_variants() -> None:
    upstreams = {name: setups.start_upstream(name) for name in setups.WEIGHTS}
    router = None
    try:
        router = setups.start_router(upstreams)
        pids = router.pids()
        chosen = {"direct": setups.Setup("direct", upstreams["b"].port), "router": router}
        with pytest.raises(bench.BrokenProxy):  # direct goes to variant a: b's answer there is caught
            bench.one_at_a_time(chosen, 5, 0)
        del chosen["direct"]
        samples, variants = bench.one_at_a_time(chosen, 200, 0)
        assert len(samples["router"]) == 200
        # 90/10 over 200 requests: b's share is far from 0 and from a half (binomial, p < 1e-6 outside)
        assert 2 <= variants["router"]["b"] <= 45, variants
        assert sum(variants["router"].values()) == 200, variants
        status, body, headers = setups.post(router.port, bench.chat_body(1))
        assert status == 200
        assert body == answer(headers["x-evolved-variant"])
    finally:
        for setup in [*([router] if router else []), *upstreams.values()]:
            setup.stop()
    assert not (pids | {u.procs[0].process.pid for u in upstreams.values()}) & set(processes())
