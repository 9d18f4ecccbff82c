"""Docker for image tests: the engine from Debian's packages and a locally built Debian base.

No image can be pulled here, so the base image is made with debootstrap (Debian bookworm with
its Python 3.11) and ``docker import``-ed, cached as a tarball under the cache and as a tag in
the engine. ``python -m e2e.docker base`` prints the base image tag as its last line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.paths import cache_dir

BASE_TAG = "evolved-pipelines/debian-base:bookworm-py311"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def log(message: str) -> None:
    print(f"[docker {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _docker_dir() -> Path:
    path = cache_dir() / "docker"
    path.mkdir(parents=True, exist_ok=True)
    return path


def engine_ok() -> bool:
    if shutil.which("docker") is None:
        return False
    proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    return proc.returncode == 0 and bool(proc.stdout.strip())


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise SystemExit(f"missing {', '.join(packages)}: install them (apt-get install {' '.join(packages)})")
    log(f"installing {' '.join(packages)} from Debian's packages")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True, env=env, stdout=subprocess.DEVNULL)


def ensure_engine() -> None:
    """Make `docker info` work: start dockerd (installing docker.io when run as root)."""
    if engine_ok():
        return
    if shutil.which("dockerd") is None:
        _apt_install("docker.io")
    pidfile = _docker_dir() / "dockerd.pid"
    logfile = _docker_dir() / "dockerd.log"
    log(f"starting dockerd (log: {logfile})")
    with logfile.open("ab") as out:
        subprocess.Popen(
            ["dockerd", "--pidfile", str(pidfile)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if engine_ok():
            log("dockerd is up")
            return
        time.sleep(0.5)
    raise SystemExit(f"dockerd did not come up within 60s; see {logfile}")


def stop_engine() -> None:
    """Stop the dockerd this tooling started (by the PID in its pidfile)."""
    pidfile = _docker_dir() / "dockerd.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text().strip())
        try:
            os.kill(pid, 15)
            log(f"stopped dockerd (pid {pid})")
        except ProcessLookupError:
            pass


def _image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def ensure_base_image() -> str:
    """Return the tag of the local Debian base image, building it when missing."""
    ensure_engine()
    if _image_exists(BASE_TAG):
        log(f"base image {BASE_TAG} cached")
        return BASE_TAG
    tarball = _docker_dir() / "debian-bookworm-py311.tar"
    if not tarball.exists():
        if shutil.which("debootstrap") is None:
            _apt_install("debootstrap")
        root = _docker_dir() / "rootfs"
        subprocess.run(["rm", "-rf", str(root)], check=True)
        log("debootstrap bookworm (minbase + python3): a few minutes when cold")
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(root)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(["rm", "-rf", str(root / "var/cache/apt/archives")], check=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
        subprocess.run(["rm", "-rf", str(root)], check=True)
    log(f"importing {tarball.name} as {BASE_TAG}")
    with tarball.open("rb") as data:
        subprocess.run(["docker", "import", "-", BASE_TAG], stdin=data, check=True, stdout=subprocess.DEVNULL)
    return BASE_TAG


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Docker engine and local base image")
    parser.add_argument("action", choices=["engine", "base", "stop"])
    args = parser.parse_args(argv)
    if args.action == "engine":
        ensure_engine()
    elif args.action == "base":
        print(ensure_base_image())
    else:
        stop_engine()
    return 0


if __name__ == "__main__":
    sys.exit(main())
