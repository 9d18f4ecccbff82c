"""The router benchmark's servers: two fake upstreams (the variants) and the proxies in front of them.

Every server is a process of ours on 127.0.0.1, started here and stopped by its PID
(:class:`e2e.processes.Background`). The proxies split 90/10 between the same two upstreams
(variant ``a`` and variant ``b``) and keep connections to them alive:

- ``router``: ``evolved-runtime router --variant a=URL --variant b=URL --weight a=90 --weight b=10``;
- ``nginx``: Debian's, one worker, an ``upstream`` block with weights 90 and 10 and ``keepalive``
  (HTTP/1.1 to the upstreams, ``Connection ""``), access log off, installed with apt-get when it
  is missing and we are root;
- ``traefik``: the binary ``make binaries`` builds, its file provider with a weighted service of
  two ``loadBalancer`` services, one entrypoint, access log off (Traefik's default).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.procstat import descendants
from e2e import processes, toolchain
from e2e.kube import wait_for
from e2e.paths import cache_dir

WEIGHTS = {"a": 90, "b": 10}
PATH = "/v1/chat/completions"
NGINX_PACKAGES = ("nginx-light", "nginx")  # Debian 12 has both; the light one is enough


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    """One thing the load goes to: its port, and the processes that are the proxy (none: direct)."""

    name: str
    port: int
    procs: list[processes.Background] = field(default_factory=list)
    note: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def pids(self) -> set[int]:
        """The proxy's processes now (nginx: the master and its worker)."""
        roots = {p.process.pid for p in self.procs}
        return roots.union(*(descendants(r) for r in roots)) if roots else set()

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


def post(port: int, body: bytes, timeout: float = 5.0) -> tuple[int, bytes, dict[str, str]]:
    """One chat request: (status, body, headers lower-cased); status 0 when nothing answered."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read(), {k.lower(): v for k, v in response.getheaders()}
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), {}
    except OSError:
        return 0, b"", {}


def _ready(setup: Setup, timeout: float = 60.0) -> Setup:
    """``setup`` once it answers a chat request with 200 (its processes stopped if it never does)."""

    def answers() -> bool:
        if any(not p.alive() for p in setup.procs):
            raise RuntimeError(f"{setup.name} exited: " + "\n".join(p.log_tail() for p in setup.procs))
        return post(setup.port, b'{"model":"bench","messages":[]}', timeout=2)[0] == 200

    try:
        wait_for(f"{setup.name} to answer on 127.0.0.1:{setup.port}", answers, timeout=timeout, interval=0.1)
    except BaseException:
        setup.stop()
        raise
    return setup


def log_path(name: str) -> Path:
    return cache_dir() / f"bench-router-{name}.log"


def start_upstream(name: str) -> Setup:
    port = free_port()
    # run as a script (it imports nothing of the repository), so it starts from any working directory
    cmd = [sys.executable, str(Path(__file__).with_name("router_upstream.py")), "--port", str(port), "--name", name]
    return _ready(Setup(f"upstream {name}", port, [processes.start(f"upstream-{name}", cmd, log_path(name))]))


def router_command(port: int, upstreams: dict[str, Setup]) -> list[str]:
    """The real CLI: the console script next to this interpreter (``python -m evolved_runtime.cli`` without one)."""
    script = Path(sys.executable).with_name("evolved-runtime")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "evolved_runtime.cli"]
    variants = [f"--variant={n}=http://127.0.0.1:{u.port}" for n, u in upstreams.items()]
    weights = [f"--weight={n}={WEIGHTS[n]}" for n in upstreams]
    return [*cli, "router", "--host", "127.0.0.1", "--port", str(port), *variants, *weights]


def start_router(upstreams: dict[str, Setup]) -> Setup:
    port = free_port()
    proc = processes.start("router", router_command(port, upstreams), log_path("router"))
    return _ready(Setup("router", port, [proc]))


def nginx_binary(install: bool = True) -> tuple[Path | None, str]:
    """nginx's path (installed with apt-get when missing, if ``install`` and root), or why there is none."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return Path(found), ""
    if not install or os.geteuid() != 0:
        return None, f"nginx is missing (as root: apt-get install -y {NGINX_PACKAGES[0]})"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for package in NGINX_PACKAGES:
        for update in (False, True):  # the package lists may be stale: update once, then try again
            if update:
                subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False, timeout=300)
            print(f"installing {package} with apt-get", flush=True)
            done = subprocess.run(["apt-get", "install", "-y", "-q", package], env=env, capture_output=True,
                                  check=False, timeout=600)  # fmt: skip
            if done.returncode == 0 and shutil.which("nginx"):
                return Path(str(shutil.which("nginx"))), ""
    return None, f"nginx could not be installed with apt-get ({', '.join(NGINX_PACKAGES)})"


def nginx_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "-v"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).strip().rpartition("/")[2]


def nginx_config(port: int, upstreams: dict[str, Setup], workdir: Path) -> str:
    servers = "\n".join(f"    server 127.0.0.1:{u.port} weight={WEIGHTS[n]};" for n, u in upstreams.items())
    temp = "\n".join(
        f"  {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return textwrap.dedent("""\
        worker_processes 1;
        daemon off;
        pid {workdir}/nginx.pid;
        error_log {workdir}/error.log warn;
        events {{ worker_connections 4096; }}
        http {{
          access_log off;
        {temp}
          keepalive_timeout 120s;
          keepalive_requests 1000000;
          upstream variants {{
        {servers}
            keepalive 64;
            keepalive_timeout 120s;
            keepalive_requests 1000000;
          }}
          server {{
            listen 127.0.0.1:{port};
            location / {{
              proxy_pass http://variants;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
            }}
          }}
        }}
    """).format(workdir=workdir, temp=temp, servers=servers, port=port)


def start_nginx(binary: Path, upstreams: dict[str, Setup]) -> Setup:
    """nginx, one worker (its master process idles), on a free port; ``-e`` keeps its log in our folder."""
    port, workdir = free_port(), Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (workdir / "nginx.conf").write_text(nginx_config(port, upstreams, workdir))
    cmd = [str(binary), "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(workdir / "nginx.conf")]
    proc = processes.start("nginx", cmd, log_path("nginx"))
    return _ready(Setup("nginx", port, [proc], note=f"nginx {nginx_version(binary)}, 1 worker"))


def traefik_binary() -> tuple[Path | None, str]:
    path = toolchain.binary("traefik")
    if path.is_file():
        return path, ""
    return None, f"Traefik is missing ({path}): build it with `make binaries` (or `python -m e2e.toolchain traefik`)"


def traefik_config(
    port: int, upstreams: dict[str, Setup], workdir: Path
) -> tuple[dict[str, object], dict[str, object]]:
    """(static, dynamic) configuration: one entrypoint, the file provider, a weighted service."""
    static = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"web": {"address": f"127.0.0.1:{port}", "transport": {"lifeCycle": {"graceTimeOut": "1s"}}}},
        "providers": {"file": {"filename": str(workdir / "dynamic.yml"), "watch": False}},
        "log": {"level": "ERROR"},
    }
    services: dict[str, object] = {
        "split": {"weighted": {"services": [{"name": n, "weight": WEIGHTS[n]} for n in upstreams]}},
        **{n: {"loadBalancer": {"servers": [{"url": f"http://127.0.0.1:{u.port}"}]}} for n, u in upstreams.items()},
    }
    routers = {"chat": {"entryPoints": ["web"], "rule": "PathPrefix(`/`)", "service": "split"}}
    return static, {"http": {"routers": routers, "services": services}}


def start_traefik(binary: Path, upstreams: dict[str, Setup]) -> Setup:
    port, workdir = free_port(), Path(tempfile.mkdtemp(prefix="bench-traefik-"))
    static, dynamic = traefik_config(port, upstreams, workdir)
    (workdir / "traefik.yml").write_text(yaml.safe_dump(static))
    (workdir / "dynamic.yml").write_text(yaml.safe_dump(dynamic))
    proc = processes.start("traefik", [str(binary), f"--configFile={workdir / 'traefik.yml'}"], log_path("traefik"))
    return _ready(Setup("traefik", port, [proc], note=f"Traefik {toolchain.TRAEFIK_VERSION}, GOMAXPROCS default"))
