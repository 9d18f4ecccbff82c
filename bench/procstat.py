"""CPU accounting from /proc for the benchmarks: per process, per process tree, and the hypervisor's steal."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def steal_counters() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[7], sum(fields[:8])


def steal_share(before: tuple[int, int]) -> float:
    """The share of CPU time the hypervisor took from this machine since ``before``."""
    steal, total = steal_counters()
    return round((steal - before[0]) / max(1, total - before[1]), 3)


def tree_cpu(root: int) -> dict[str, float]:
    """CPU seconds so far of ``root`` ("server") and of all its descendants ("solvers")."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out = {"server": 0.0, "solvers": 0.0}
    for pid in parents:
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            try:
                out["server" if pid == root else "solvers"] += cpu_seconds(pid)
            except OSError:
                continue
    return out
