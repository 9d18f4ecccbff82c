"""``make kind-up`` with the real tools: kind built from its Go module, Docker, kubectl and helm.
No image registry is reachable here, so the run must stop before it changes anything, naming the
node image it could not pull and what to do; and the node image it asks for is the one that
kind release creates clusters with by default."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from e2e import kind, toolchain

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kind_binary() -> str:
    toolchain.ensure(["kind"])  # make test builds it first (make binaries); a no-op when cached
    return str(toolchain.binary("kind"))


def test_the_node_image_is_the_default_of_the_kind_release_built() -> None:
    info = subprocess.run(
        ["go", "mod", "download", "-json", f"sigs.k8s.io/kind@{toolchain.KIND_VERSION}"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    source = Path(json.loads(info.stdout)["Dir"]) / "pkg/apis/config/defaults/image.go"
    default = re.search(r'const Image = "([^"@]+)', source.read_text())
    assert default is not None
    assert default.group(1) == kind.NODE_IMAGE


def test_without_a_registry_kind_up_stops_before_creating_anything(kind_binary: str) -> None:
    if kind.image_available(kind.NODE_IMAGE) is None:
        pytest.skip(f"{kind.NODE_IMAGE} is at hand here: this test is for machines without a registry")
    env = {**os.environ, "PATH": f"{os.path.dirname(kind_binary)}{os.pathsep}{os.environ['PATH']}"}
    name = "evolved-test-no-registry"
    proc = subprocess.run(
        [sys.executable, "-m", "e2e.kind", "up", "--name", name],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot pull kind's node image {kind.NODE_IMAGE}" in proc.stderr
    assert "`make kind-up` cannot run" in proc.stderr
    assert "make dev" in proc.stderr
    clusters = subprocess.run([kind_binary, "get", "clusters"], capture_output=True, text=True, env=env, check=True)
    assert name not in clusters.stdout + clusters.stderr
    assert "$ kind create cluster" not in proc.stdout  # nothing ran
