"""A good Kubernetes citizen: health and readiness, config errors, graceful SIGTERM, no secrets served."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from e2e.fake_upstream import FakeUpstream
from e2e.kube import wait_for

HARD = (
    "```smt2\n(declare-const x Int)\n(declare-const y Int)\n(declare-const z Int)\n"
    "(assert (> x 1))\n(assert (> y 1))\n(assert (> z 1))\n"
    "(assert (= (+ (* x x x) (* y y y)) (* z z z)))\n(check-sat)\n```"
)


def test_a_bad_program_keeps_ready_at_503_with_the_reason_while_health_stays_200(
    start_runtime: Any, tmp_path: Path
) -> None:
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "router.py").write_text("def route(prompt, context):\n    return 'tier one'\n")
    runtime = start_runtime({"programs_dir": str(programs)}, wait_ready=False)
    wait_for("/ready to explain why it is not ready", lambda: b"router" in runtime.get("/ready")[1], timeout=60)
    status, body = runtime.get("/ready")
    assert status == 503
    assert "route() returned str" in json.loads(body)["error"]["message"]
    assert runtime.get("/health")[0] == 200
    got, payload, _ = runtime.post("/v1/chat/completions", b'{"model":"t","messages":[{"role":"user","content":"hi"}]}')
    assert got == 503
    assert payload["error"]["code"] == "not_ready"


def test_a_hanging_solve_does_not_delay_health(start_runtime: Any) -> None:
    runtime = start_runtime({"solver": {"timeout_ms": 4000, "pool_size": 1}})
    result: dict[str, Any] = {}
    body = json.dumps({"model": "t", "messages": [{"role": "user", "content": HARD}]}).encode()
    worker = threading.Thread(target=lambda: result.update(answer=runtime.post("/v1/chat/completions", body)))
    worker.start()
    try:
        wait_for(
            "the hard solve to be in flight",
            lambda: b'evolved_in_flight_requests{pipeline="test",variant="v1"} 1.0' in runtime.get("/metrics")[1],
        )
        assert runtime.get("/health")[0] == 200
        assert "answer" not in result  # /health answered while the solve was still running
    finally:
        worker.join(30)
    status, payload, _ = result["answer"]
    assert status == 200
    assert payload["evolved"]["verdict"] in ("UNKNOWN", "SAT", "UNSAT")


@pytest.mark.parametrize(
    ("solver", "field"),
    [({"timeout_ms": 1}, "solver.timeout_ms"), ({"memory_mb": 100}, "solver.memory_mb")],
)
def test_an_invalid_config_exits_non_zero_naming_the_field(tmp_path: Path, solver: dict[str, int], field: str) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"solver": solver}))
    proc = subprocess.run(
        [sys.executable, "-m", "evolved_runtime.cli", "serve", "--config", str(config), "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert field in proc.stderr


def test_config_is_served_without_secrets(start_runtime: Any, upstream: FakeUpstream) -> None:
    runtime = start_runtime(
        {"llm": {"base_url": upstream.base_url, "model": "m"}}, env={"EVOLVED_LLM_API_KEY": "sk-very-secret"}
    )
    status, body = runtime.get("/config")
    assert status == 200
    config = json.loads(body)
    assert config["llm"]["api_key_env"] == "EVOLVED_LLM_API_KEY"
    assert b"sk-very-secret" not in body


def test_sigterm_finishes_the_in_flight_request_then_exits_0(start_runtime: Any, upstream: FakeUpstream) -> None:
    upstream.behaviour.delay_s = 2.0
    runtime = start_runtime({"llm": {"base_url": upstream.base_url, "model": "m"}})
    result: dict[str, Any] = {}
    body = b'{"model":"t","messages":[{"role":"user","content":"Tell me a story"}]}'
    worker = threading.Thread(target=lambda: result.update(answer=runtime.post("/v1/chat/completions", body)))
    worker.start()
    wait_for("the upstream to receive the request", lambda: upstream.in_flight == 1)
    runtime.process.process.send_signal(signal.SIGTERM)
    worker.join(30)
    assert result["answer"][0] == 200
    assert runtime.process.process.wait(30) == 0


def test_check_exits_non_zero_for_a_bad_program_set_and_zero_for_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "translation.py").write_text("def translate(prompt, level, hints, llm)\n    return None\n")
    bad = subprocess.run(
        [sys.executable, "-m", "evolved_runtime.cli", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "translation: syntax error" in bad.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    good = subprocess.run(
        [sys.executable, "-m", "evolved_runtime.cli", "check", str(empty)], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0
    assert good.stdout.startswith("OK")
