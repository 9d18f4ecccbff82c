"""``make kind-up`` / ``make kind-down``: the operator and the quickstart on a kind cluster.

For users with Docker and registry access (docs/install.md, "kind"): the standard kind commands,
in this order: ``kind create cluster``, ``docker build`` of the root Dockerfile, ``kind load
docker-image``, ``helm install`` of charts/evolved-operator with that image, ``kubectl apply -f
examples/quickstart.yaml`` and a wait until the pipeline is Ready. ``--dry-run`` prints the
commands without running them. Before anything runs it checks that ``kind``, ``docker``,
``kubectl`` and ``helm`` are there and that kind's node image and the Dockerfile's base image are
present or can be pulled: kind cannot start without its node image from a registry (Docker Hub),
so where none is reachable it stops there with a message saying so.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from e2e import chart

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = "evolved"
NODE_IMAGE = "kindest/node:v1.34.0"  # a node image of kind v0.30 (kind's release notes list them)
BASE_IMAGE = "python:3.11-slim"  # the Dockerfile's default BASE_IMAGE
REPOSITORY = "evolved-pipelines/runtime"  # the chart's and the pipelines' default image...
TAG = "0.1.0"  # ...at the chart's appVersion: pipelines without spec.image run it too
NAMESPACE = "evolved-system"
RELEASE = "evolved-operator"
TOOLS = {
    "kind": "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
    "docker": "https://docs.docker.com/engine/install/",
    "kubectl": "https://kubernetes.io/docs/tasks/tools/",
    "helm": "https://helm.sh/docs/intro/install/ (or `make chart`, which builds one into the cache)",
}


@dataclass(frozen=True)
class Options:
    cluster: str = CLUSTER
    node_image: str = NODE_IMAGE
    base_image: str = BASE_IMAGE
    helm: str = "helm"

    @property
    def context(self) -> str:
        return f"kind-{self.cluster}"

    @property
    def image(self) -> str:
        return f"{REPOSITORY}:{TAG}"


def up_steps(o: Options) -> list[tuple[str, ...]]:
    """The commands of ``make kind-up``, in order (docs/install.md lists the same); paths are
    relative to the repository's root, where they run."""
    kubectl = ("kubectl", "--context", o.context)
    values = (f"image.repository={REPOSITORY}", f"image.tag={TAG}", "image.pullPolicy=IfNotPresent")
    install = ("--namespace", NAMESPACE, "--create-namespace", *(arg for v in values for arg in ("--set", v)))
    return [
        ("kind", "create", "cluster", "--name", o.cluster, "--image", o.node_image, "--wait", "120s"),
        ("docker", "build", "--build-arg", f"BASE_IMAGE={o.base_image}", "-t", o.image, "."),
        ("kind", "load", "docker-image", o.image, "--name", o.cluster),
        (o.helm, "install", RELEASE, "charts/evolved-operator", "--kube-context", o.context, *install),
        (*kubectl, "-n", NAMESPACE, "rollout", "status", f"deployment/{RELEASE}", "--timeout=300s"),
        (*kubectl, "apply", "-f", "examples/quickstart.yaml"),
        (*kubectl, "wait", "evolvedpipeline/quickstart", "--for=condition=Ready", "--timeout=300s"),
        (*kubectl, "get", "evolvedpipelines", "-A"),
    ]


def down_steps(o: Options) -> list[tuple[str, ...]]:
    return [("kind", "delete", "cluster", "--name", o.cluster)]


def missing_tools(tools: Sequence[str], which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """One line per tool that is not on PATH, with where to get it."""
    return [f"`{t}` is not on PATH: install it ({TOOLS[t]})" for t in tools if which(t) is None]


def find_helm() -> str:
    """``helm`` on PATH, else the one ``make chart`` builds into the cache."""
    if shutil.which("helm"):
        return "helm"
    cached = chart.helm()
    return str(cached) if cached.exists() else "helm"


def image_available(image: str) -> str | None:
    """None when ``image`` is in Docker or could be pulled; else docker's last words."""
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode == 0:
        return None
    print(f"==> docker pull {image}", flush=True)
    proc = subprocess.run(["docker", "pull", image], capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        return None
    said = (proc.stderr or proc.stdout).strip().splitlines()
    return said[-1] if said else f"docker pull exited with {proc.returncode}"


def preflight(o: Options, tools: Sequence[str]) -> list[str]:
    """What stops ``make kind-up`` before it changes anything: missing tools, images out of reach."""
    problems = missing_tools(tools, lambda t: shutil.which(o.helm) if t == "helm" else shutil.which(t))
    if problems or "docker" not in tools:
        return problems
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        return ["docker is installed but its daemon does not answer (`docker info` fails): start Docker"]
    for image, why in ((o.node_image, "kind's node image"), (o.base_image, "the Dockerfile's base image")):
        error = image_available(image)
        if error is not None:
            problems.append(
                f"cannot pull {why} {image} ({error}). kind needs an image registry (Docker Hub) it can "
                "pull from: where none is reachable, `make kind-up` cannot run (docs/install.md, "
                '"kind"). Pull or load the image by other means and run it again, or use `make dev`'
            )
            break
    return problems


def run(steps: Sequence[tuple[str, ...]]) -> int:
    for argv in steps:
        print("$ " + shlex.join(argv), flush=True)
        proc = subprocess.run(argv, cwd=ROOT, check=False)  # the paths are relative to the repository
        if proc.returncode != 0:
            print(f"kind: `{shlex.join(argv)}` failed with exit code {proc.returncode}", file=sys.stderr)
            return proc.returncode
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.kind", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--name", default=CLUSTER, help="the kind cluster's name (default %(default)s)")
    parser.add_argument("--node-image", default=NODE_IMAGE, help="kind's node image (default %(default)s)")
    parser.add_argument("--base-image", default=BASE_IMAGE, help="the Dockerfile's BASE_IMAGE (default %(default)s)")
    args = parser.parse_args(argv)
    options = Options(cluster=args.name, node_image=args.node_image, base_image=args.base_image, helm=find_helm())
    up = args.action == "up"
    steps = up_steps(options) if up else down_steps(options)
    if args.dry_run:
        for step in steps:
            print("$ " + shlex.join(step))
        return 0
    problems = preflight(options, list(TOOLS) if up else ["kind"])
    if problems:
        print(f"make kind-{args.action}: cannot start:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    return run(steps)


if __name__ == "__main__":
    raise SystemExit(main())
