"""Build the shared runtime image from the root Dockerfile on a locally made Debian base.

Users build with the default base (a public python slim image). Here no registry is reachable,
so the base comes from ``e2e.docker`` and pip inside the builder stage reaches PyPI through the
host network with the host's CA bundle: the bundle is placed in ``.build/`` for the builder stage
only (the final stage copies just the virtualenv), so it never reaches the image users get.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e import docker

ROOT = Path(__file__).resolve().parent.parent
IMAGE_TAG = "evolved-pipelines/runtime:dev"


def log(message: str) -> None:
    print(f"[image {time.strftime('%H:%M:%S')}] {message}", flush=True)


def build(tag: str = IMAGE_TAG) -> str:
    base = docker.ensure_base_image()
    build_dir = ROOT / ".build"
    build_dir.mkdir(exist_ok=True)
    ca = build_dir / "pip-ca.pem"
    if docker.SYSTEM_CA_BUNDLE.exists():
        shutil.copyfile(docker.SYSTEM_CA_BUNDLE, ca)
    log(f"docker build -t {tag} (base {base})")
    started = time.monotonic()
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    cmd = [
        "docker", "build", "--network", "host",
        "--build-arg", f"BASE_IMAGE={base}",
        "--build-arg", "PIP_CERT_FILE=.build/pip-ca.pem",
        "-t", tag, str(ROOT),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-4000:])
        raise SystemExit(f"docker build failed ({proc.returncode})")
    log(f"built {tag} in {time.monotonic() - started:.0f}s")
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build the runtime image")
    parser.add_argument("--tag", default=IMAGE_TAG)
    args = parser.parse_args(argv)
    print(build(args.tag))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
