"""A real Prometheus for the analysis tests: a local process scraping the processes the test started.

Prometheus (built from its Go module by ``e2e.toolchain``, service discovery left out) runs on
127.0.0.1 on a free port with a generated config: one static target per router (or worker, or
operator) the caller names, scraped every second with the labels given for it (``namespace`` and
``pipeline``, as the scrape config in docs/rollouts.md attaches them in a cluster), in the job it
names. Its data lives in a folder of the test; it is stopped by PID (and dies with the test process
when ``setpriv`` is there).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from e2e import processes, toolchain
from e2e.dataplane import answers, free_port
from e2e.kube import wait_for
from e2e.netns import dies_with_parent

SCRAPE_INTERVAL = "1s"
JOB = "evolved-router"


@dataclass(frozen=True)
class Target:
    """A process to scrape: ``host:port`` (``/metrics``), the labels its samples get, its job, and
    whether the labels it exports win over the target's (``honor_labels``)."""

    address: str
    labels: Mapping[str, str]
    job: str = JOB
    honor_labels: bool = False


@dataclass
class Prometheus:
    process: processes.Background
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result rows (raises on an error answer)."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return list(body["data"]["result"])


def config(targets: list[Target]) -> dict[str, Any]:
    """A Prometheus config scraping each target every second with its labels, one scrape config per job."""
    jobs: dict[str, list[Target]] = {}
    for target in targets:
        jobs.setdefault(target.job, []).append(target)
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": job,
                "scrape_timeout": SCRAPE_INTERVAL,
                "honor_labels": any(t.honor_labels for t in group),
                "static_configs": [{"targets": [t.address], "labels": dict(t.labels)} for t in group],
            }
            for job, group in jobs.items()
        ],
    }


def command(config_path: Path, data: Path, port: int) -> list[str]:
    return [
        str(toolchain.binary("prometheus")),
        f"--config.file={config_path}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1h",
        "--log.level=warn",
    ]


@contextmanager
def running(targets: list[Target], workdir: Path, timeout: float = 60.0) -> Iterator[Prometheus]:
    """Prometheus scraping ``targets``, ready (``/-/ready``) before it is yielded."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config(targets), sort_keys=False))
    port = free_port()
    proc = processes.start("prometheus", dies_with_parent(command(config_path, workdir / "data", port)),
                           workdir / "prometheus.log")  # fmt: skip
    try:
        prometheus = Prometheus(proc, port)
        wait_for("Prometheus /-/ready", lambda: answers(prometheus.url + "/-/ready") or not proc.alive(), timeout)
        assert proc.alive(), f"Prometheus exited ({proc.process.returncode}):\n{proc.log_tail()}"
        yield prometheus
    finally:
        proc.stop()
