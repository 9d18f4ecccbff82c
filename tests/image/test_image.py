"""The shared runtime image: built from the root Dockerfile on a local Debian base, then run."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from e2e import image
from e2e.fake_upstream import Behaviour, FakeUpstream
from e2e.kube import wait_for

pytestmark = pytest.mark.docker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def runtime_image(docker_engine: str) -> str:
    return image.build()


@pytest.fixture(scope="module")
def container(runtime_image: str) -> Iterator[tuple[str, int]]:
    port = _free_port()
    started = _docker(
        "run", "-d", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
        runtime_image, "evolved-runtime", "serve", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    container_id = started.stdout.strip()
    yield container_id, port
    _docker("rm", "-f", container_id, check=False)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _inspect(tag: str) -> dict[str, Any]:
    return dict(json.loads(_docker("image", "inspect", tag).stdout)[0])


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck(runtime_image: str) -> None:
    config = _inspect(runtime_image)["Config"]
    assert config["User"] not in ("", "0", "root")
    assert "/health" in " ".join(config["Healthcheck"]["Test"])


def test_the_final_stage_has_no_compiler_and_no_build_time_ca_bundle(runtime_image: str) -> None:
    probe = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", runtime_image, "-c",
        "for c in gcc cc g++ clang; do command -v $c; done; ls /src/.build 2>/dev/null; find / -name pip-ca.pem 2>/dev/null; true",
    )  # fmt: skip
    assert probe.stdout.strip() == ""


def test_a_container_with_a_read_only_root_becomes_ready_and_answers_a_tier_1_question(
    container: tuple[str, int],
) -> None:
    container_id, port = container
    wait_for("/ready to answer 200", lambda: _status(f"http://127.0.0.1:{port}/ready") == 200, timeout=90)
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused")
    reply = client.chat.completions.create(
        model="evolved",
        messages=[
            {
                "role": "user",
                "content": "All cats are mammals. All mammals are animals. Therefore, all cats are animals.",
            }
        ],
    )
    evolved = reply.model_extra["evolved"] if reply.model_extra else {}
    assert evolved["tier"] == 1
    assert evolved["verdict"] == "VALID"
    assert reply.choices[0].message.content.startswith("VALID")
    running = _docker("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}}", container_id).stdout.strip()
    assert running == "true"


def test_the_image_carries_the_semantic_cache(runtime_image: str, tmp_path: Path) -> None:
    """A pipeline with spec.cache.semantic starts from the shipped image and serves a paraphrase of
    an LLM answer; the model is inside the image (it embeds in a container without a network)."""
    offline = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "python3", runtime_image, "-c",
        "from evolved_runtime.admission.embedding import MiniLM; print(MiniLM().embed('hello').shape)",
    )  # fmt: skip
    assert offline.stdout.strip() == "(384,)"
    upstream = FakeUpstream(Behaviour(reply="Paris.")).start()
    port = _free_port()
    config = tmp_path / "pipeline.json"
    config.write_text(json.dumps({
        "pipeline": "image", "variant": "v1", "llm": {"base_url": upstream.base_url, "model": "m"},
        "cache": {"enabled": True, "semantic": {"enabled": True}},
    }))  # fmt: skip
    config.chmod(0o644)
    started = _docker(
        "run", "-d", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
        "-v", f"{config}:/etc/evolved/pipeline.json:ro", runtime_image,
        "evolved-runtime", "serve", "--config", "/etc/evolved/pipeline.json", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    container_id = started.stdout.strip()
    try:
        wait_for("/ready to answer 200", lambda: _status(f"http://127.0.0.1:{port}/ready") == 200, timeout=90)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        levels = []
        for prompt in ("What is the capital of France?", "what's the capital city of France?"):
            raw = client.chat.completions.with_raw_response.create(
                model="t", messages=[{"role": "user", "content": prompt}], temperature=0
            )
            assert raw.parse().choices[0].message.content == "Paris."
            levels.append(raw.headers["x-evolved-cache"])
        assert levels == ["miss", "semantic"]
        assert upstream.requests == 1
    finally:
        _docker("rm", "-f", container_id, check=False)
        upstream.stop()
