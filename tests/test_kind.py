"""``make kind-up`` (e2e/kind.py): the standard kind commands in the documented order, and a clear
refusal before anything runs when a tool is missing or kind's node image cannot be pulled.

kind itself cannot run on this machine (no image registry: its node image cannot be pulled), so
the commands run against stand-ins on PATH that record how they were called."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from e2e import kind

ROOT = Path(__file__).parents[1]
REGISTRY_ERROR = "Error response from daemon: dial tcp: lookup registry-1.docker.io: no such host"
DRY_RUN = [
    "kind create cluster --name evolved --image kindest/node:v1.34.0 --wait 120s",
    "docker build --build-arg BASE_IMAGE=python:3.11-slim -t evolved-pipelines/runtime:0.1.0 .",
    "kind load docker-image evolved-pipelines/runtime:0.1.0 --name evolved",
    "HELM install evolved-operator charts/evolved-operator --kube-context kind-evolved --namespace evolved-system"
    " --create-namespace --set image.repository=evolved-pipelines/runtime --set image.tag=0.1.0"
    " --set image.pullPolicy=IfNotPresent",
    "kubectl --context kind-evolved -n evolved-system rollout status deployment/evolved-operator --timeout=300s",
    "kubectl --context kind-evolved apply -f examples/quickstart.yaml",
    "kubectl --context kind-evolved wait evolvedpipeline/quickstart --for=condition=Ready --timeout=300s",
    "kubectl --context kind-evolved get evolvedpipelines -A",
]


def kind_py(*args: str, path: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        [sys.executable, "-m", "e2e.kind", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def stand_ins(bin_dir: Path, log: Path, failing: str = "") -> None:
    """kind, docker, kubectl and helm scripts that log their arguments; ``failing`` (e.g. ``docker
    pull``) exits 1 with a registry error, and ``docker image inspect`` finds nothing."""
    bin_dir.mkdir()
    for tool in ("kind", "docker", "kubectl", "helm"):
        script = bin_dir / tool
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{tool} $*" >> {log}\n'
            f'case "{tool} $*" in\n'
            '  "docker image inspect"*) exit 1 ;;\n'
            + (f'  "{failing}"*) echo "{REGISTRY_ERROR}" >&2; exit 1 ;;\n' if failing else "")
            + "esac\n"
        )
        script.chmod(0o755)


def run_with_stand_ins(tmp_path: Path, failing: str = "") -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``make kind-up`` against the stand-ins: its outcome and the commands they saw."""
    log = tmp_path / "calls.log"
    stand_ins(tmp_path / "bin", log, failing)
    proc = kind_py("up", path=str(tmp_path / "bin"))
    return proc, log.read_text().splitlines() if log.exists() else []


def test_the_dry_run_prints_the_standard_kind_commands_in_the_documented_order() -> None:
    proc = kind_py("up", "--dry-run", path=os.environ["PATH"])
    assert proc.returncode == 0, proc.stderr
    lines = [line.removeprefix("$ ") for line in proc.stdout.splitlines()]
    helm = kind.find_helm()
    assert lines == [line.replace("HELM", helm) for line in DRY_RUN]


def test_kind_down_deletes_the_cluster() -> None:
    proc = kind_py("down", "--dry-run", path=os.environ["PATH"])
    assert proc.stdout.splitlines() == ["$ kind delete cluster --name evolved"]


def test_docs_install_lists_the_same_commands() -> None:
    text = " ".join((ROOT / "docs" / "install.md").read_text().replace("\\\n", " ").split())
    for line in DRY_RUN:
        assert "$ " + line.replace("HELM", "helm") in text, line


def test_it_refuses_clearly_when_kind_is_absent_and_runs_nothing(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    stand_ins(tmp_path / "bin", log)
    (tmp_path / "bin" / "kind").unlink()
    proc = kind_py("up", path=str(tmp_path / "bin"))
    assert proc.returncode == 2
    assert "`kind` is not on PATH: install it (https://kind.sigs.k8s.io/" in proc.stderr
    assert not log.exists()


def test_it_stops_before_creating_a_cluster_when_the_node_image_cannot_be_pulled(tmp_path: Path) -> None:
    proc, calls = run_with_stand_ins(tmp_path, failing="docker pull kindest/node")
    assert proc.returncode == 2
    assert "cannot pull kind's node image kindest/node:v1.34.0" in proc.stderr
    assert "no such host" in proc.stderr
    assert "kind needs an image registry" in proc.stderr
    assert "docs/install.md" in proc.stderr
    assert calls == ["docker info", "docker image inspect kindest/node:v1.34.0", "docker pull kindest/node:v1.34.0"]


def test_with_every_tool_and_image_at_hand_it_runs_exactly_the_dry_run_commands(tmp_path: Path) -> None:
    proc, calls = run_with_stand_ins(tmp_path)
    assert proc.returncode == 0, proc.stderr
    checks = [
        "docker info",
        "docker image inspect kindest/node:v1.34.0",
        "docker pull kindest/node:v1.34.0",
        "docker image inspect python:3.11-slim",
        "docker pull python:3.11-slim",
    ]
    assert calls == checks + [line.replace("HELM", "helm") for line in DRY_RUN]


def test_a_failing_step_stops_the_run_with_its_command(tmp_path: Path) -> None:
    proc, calls = run_with_stand_ins(tmp_path, failing="kind load")
    assert proc.returncode == 1
    assert "`kind load docker-image evolved-pipelines/runtime:0.1.0 --name evolved` failed" in proc.stderr
    assert calls[-1] == "kind load docker-image evolved-pipelines/runtime:0.1.0 --name evolved"


@pytest.mark.parametrize("tool", ["docker", "kubectl", "helm"])
def test_every_missing_tool_is_named(tool: str) -> None:
    assert kind.missing_tools([tool], lambda t: None) == [f"`{tool}` is not on PATH: install it ({kind.TOOLS[tool]})"]
