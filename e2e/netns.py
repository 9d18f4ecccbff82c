"""Network namespaces that stand in for pods: a pod's IP on a veth pair, processes run inside.

Tests send traffic only to 127.0.0.1 or to addresses inside namespaces they created here. A
``PodNetns`` takes the address the cluster gave a pod (KWOK assigns pod IPs without any network
behind them), puts it on the inside end of a veth pair and routes that one address (/32) to the
pair from the host, so a local process (Traefik, the router, a test client) reaches a worker at the
very address the pod's EndpointSlice lists. The host end gets a link-local /32 and the namespace
routes only to that: the namespace reaches nothing but the host end of its own pair.

Before anything is created, the address is checked against every address and route of this
machine; one that could reach a real network, or is already routed here, is refused loudly.
``close()`` stops every process in the namespace by PID, then deletes the namespace (which deletes
its veth pair and the host route); ``pod_netns`` does it even when the test fails, and
``remove_stale`` removes what a killed run left behind.

Needs root (``ip netns``), as the tests run in CI.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e import processes

PREFIX = "evp-"  # every namespace made here: evp-<creator pid>-<token>
HOST_LINK_NET = ipaddress.ip_network("169.254.0.0/16")  # the host ends of the pairs


class NetnsError(RuntimeError):
    """A namespace could not be made, or the address asked for is not safe to take."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], text=True, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _json(*args: str) -> list[dict[str, Any]]:
    out = _ip("-j", *args).stdout.strip()
    return list(json.loads(out)) if out else []


def dies_with_parent(cmd: list[str]) -> list[str]:
    """``cmd`` under ``setpriv --pdeathsig TERM``: it gets SIGTERM when the test process dies, even
    by SIGKILL, so a killed run leaves no server behind (the namespace itself: ``remove_stale``)."""
    return ["setpriv", "--pdeathsig", "TERM", *cmd] if shutil.which("setpriv") else cmd


def available() -> str | None:
    """None when namespaces can be made here, else why not (for a skip or a failure message)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if subprocess.run(["ip", "-V"], capture_output=True, check=False).returncode != 0:
        return "the `ip` command (iproute2) is missing"
    return None


def host_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network this machine has an address in or a route to (all tables), except default."""
    found: list[ipaddress.IPv4Network] = []
    for entry in _json("-4", "addr", "show"):
        for info in entry.get("addr_info", []):
            found.append(ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False))
    for route in _json("-4", "route", "show", "table", "all"):
        dst = str(route.get("dst", ""))
        if dst in ("", "default") or route.get("type") in ("broadcast", "multicast"):
            continue
        found.append(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32", strict=False))
    return found


def check_address(address: str, networks: list[ipaddress.IPv4Network] | None = None) -> ipaddress.IPv4Address:
    """The address, if a namespace may take it; else NetnsError saying why.

    Refused: anything not IPv4 private-range (a public address could be someone's server), the
    loopback and link-local ranges (used here for other things), and any address inside a network
    this machine already has an address in or a route to (it would shadow a real one, or another
    namespace holds it).
    """
    ip = ipaddress.ip_address(address)
    if not isinstance(ip, ipaddress.IPv4Address):
        raise NetnsError(f"{address}: only IPv4 pod addresses are supported")
    if ip.is_loopback or ip.is_link_local or not ip.is_private or ip.is_multicast or ip.is_unspecified:
        raise NetnsError(f"{address}: loopback, link-local or not private-range; a test namespace never takes it")
    for net in host_networks() if networks is None else networks:
        if ip in net:
            raise NetnsError(
                f"{address} collides with {net}, which this machine already has an address in or a route to: "
                "refusing to shadow it (a pod CIDR must not overlap the host's networks; "
                "a leftover namespace from a killed run is removed by e2e.netns.remove_stale())"
            )
    return ip


def _host_end_address(ip: ipaddress.IPv4Address) -> str:
    """A link-local address for the host end, derived from the pod address (unique per pod)."""
    low = int(ip) & 0xFFFF
    low = max(1, min(low, 0xFEFF))  # not .0.0, not 169.254.255.x (reserved)
    return str(HOST_LINK_NET.network_address + low)


@dataclass
class PodNetns:
    """One namespace holding one pod address; processes started in it are stopped by PID."""

    name: str
    address: str
    host_veth: str
    inner_veth: str
    host_end: str
    started: list[processes.Background] = field(default_factory=list)

    def run(self, name: str, cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> processes.Background:
        """Start ``cmd`` inside the namespace (``ip netns exec`` and ``setpriv`` exec it: the PID is the command's)."""
        proc = processes.start(name, ["ip", "netns", "exec", self.name, *dies_with_parent(cmd)], log_path, env=env)
        self.started.append(proc)
        return proc

    def pids(self) -> list[int]:
        """Every process inside the namespace (ours, and any child they started)."""
        proc = _ip("netns", "pids", self.name, check=False)
        return [int(p) for p in proc.stdout.split() if p.isdigit()]

    def close(self, timeout: float = 15.0) -> None:
        """Stop our processes, then anything left inside, by PID; delete the namespace and its pair."""
        for proc in self.started:
            proc.stop(timeout)
        _kill_pids(self.pids(), timeout=5.0)
        _ip("netns", "delete", self.name, check=False)  # deletes the inner veth, so its peer and the route
        _ip("link", "delete", self.host_veth, check=False)  # already gone unless setup stopped half way


def _kill_pids(pids: list[int], timeout: float) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        if alive:
            time.sleep(0.05)
    for pid in alive:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def create(address: str) -> PodNetns:
    """A namespace whose veth holds ``address`` (/32), reachable from the host by a /32 route."""
    ip = check_address(address)
    token = secrets.token_hex(4)
    ns = PodNetns(
        name=f"{PREFIX}{os.getpid()}-{token}",
        address=str(ip),
        host_veth=f"evh{token}",  # remove_stale derives it from the name's token
        inner_veth=f"evn{token}",
        host_end=_host_end_address(ip),
    )
    try:
        _ip("netns", "add", ns.name)
        _ip("link", "add", ns.host_veth, "type", "veth", "peer", "name", ns.inner_veth, "netns", ns.name)
        _ip("addr", "add", f"{ns.host_end}/32", "dev", ns.host_veth)
        _ip("link", "set", ns.host_veth, "up")
        _ip("route", "add", f"{ns.address}/32", "dev", ns.host_veth, "src", ns.host_end)
        inside = ("netns", "exec", ns.name, "ip")
        _ip(*inside, "link", "set", "lo", "up")
        _ip(*inside, "addr", "add", f"{ns.address}/32", "dev", ns.inner_veth)
        _ip(*inside, "link", "set", ns.inner_veth, "up")
        _ip(*inside, "route", "add", f"{ns.host_end}/32", "dev", ns.inner_veth, "src", ns.address)
    except NetnsError:
        ns.close()
        raise
    return ns


@contextmanager
def pod_netns(address: str) -> Iterator[PodNetns]:
    """``create(address)``, closed on the way out whatever happened."""
    ns = create(address)
    try:
        yield ns
    finally:
        ns.close()


def remove_stale() -> list[str]:
    """Delete namespaces made here by processes that are gone (a killed test run); their names."""
    removed: list[str] = []
    listed = _ip("netns", "list", check=False).stdout.split("\n")
    for line in listed:
        name = line.split(" ", 1)[0].strip()
        if not name.startswith(PREFIX):
            continue
        creator = name[len(PREFIX) :].split("-", 1)[0]
        if creator.isdigit() and _alive(int(creator)):
            continue
        pids = [int(p) for p in _ip("netns", "pids", name, check=False).stdout.split() if p.isdigit()]
        _kill_pids(pids, timeout=5.0)
        _ip("netns", "delete", name, check=False)
        _ip("link", "delete", f"evh{name.rsplit('-', 1)[-1]}", check=False)  # the kernel would, a moment later
        removed.append(name)
    return removed
