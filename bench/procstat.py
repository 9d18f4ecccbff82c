"""CPU accounting from /proc for the benchmarks: per process, per process tree, and the hypervisor's steal."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(text: str) -> tuple[str, int, float]:
    """(command name, parent pid, user + system CPU seconds) from a /proc/PID/stat line."""
    comm, rest = text.split(" (", 1)[1].rsplit(")", 1)
    fields = rest.split()
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    return _stat(Path(f"/proc/{pid}/stat").read_text())[2]


def processes() -> dict[int, tuple[str, int, float]]:
    """Every process now: pid -> (command name, parent pid, CPU seconds so far), one read each."""
    out: dict[int, tuple[str, int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out[int(entry.name)] = _stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # the process ended while we looked
    return out


def steal_counters() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[7], sum(fields[:8])


def steal_share(before: tuple[int, int]) -> float:
    """The share of CPU time the hypervisor took from this machine since ``before``."""
    steal, total = steal_counters()
    return round((steal - before[0]) / max(1, total - before[1]), 3)


def descendants(root: int, table: dict[int, tuple[str, int, float]] | None = None) -> set[int]:
    """The processes (now, or in ``table``) that ``root`` started, or their children, and so on."""
    table = processes() if table is None else table
    found: set[int] = set()
    for pid in table:
        ancestor = table[pid][1]
        while ancestor not in (root, 0, 1) and ancestor in table:
            ancestor = table[ancestor][1]
        if ancestor == root and pid != root:
            found.add(pid)
    return found


def tree_cpu(root: int) -> dict[str, float]:
    """CPU seconds so far of ``root`` ("server") and of all its descendants ("solvers")."""
    table = processes()
    below = descendants(root, table)
    return {
        "server": table[root][2] if root in table else 0.0,
        "solvers": sum(table[pid][2] for pid in below),
    }


def cpu_by_name(prefixes: tuple[str, ...], extra: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of every process whose command name starts with one of ``prefixes``
    (summed per prefix), and of ``extra`` (name -> pid)."""
    out: dict[str, float] = {}
    for comm, _, cpu in processes().values():
        name = next((n for n in prefixes if comm.startswith(n)), None)
        if name is not None:
            out[name] = out.get(name, 0.0) + cpu
    for name, pid in extra.items():
        out[name] = cpu_seconds(pid)
    return out


def cpu_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per name between two readings, by name, to a tenth of a second."""
    return {k: round(v - before.get(k, 0.0), 1) for k, v in sorted(after.items())}
