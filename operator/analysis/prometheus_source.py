"""The ``prometheus`` analysis provider: PromQL over a Prometheus HTTP API (``/api/v1/query``).

Prometheus must scrape the router pods' ``/metrics`` with two target labels naming the pipeline:
``namespace`` and ``pipeline`` (see docs/rollouts.md, "Analysis", for the scrape config). Each
measurement runs, for the window ``[Ns]``, one instant query per counter the analysis reads,
summed over the router pods::

    sum by (variant) (increase(evolved_router_requests_total{namespace="ns",pipeline="p"}[30s]))
    histogram_quantile(0.95, sum by (le, variant) (rate(evolved_router_request_duration_seconds_bucket{...}[30s])))

A variant without a request series is left out (no data); an empty answer everywhere is a
measurement error that names the labels Prometheus should have; NaN stays NaN (the judge makes
it Inconclusive) and a NaN p95 is None. Unreachable, non-200 or a bad answer: an error.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import aiohttp

from evolved_operator.analysis import Measurement
from evolved_operator.analysis.router_source import TIMEOUT_S, describe
from evolved_operator.analysis.window import BUCKETS, COUNTERS, QUANTILE, REQUESTS, Totals, samples

LABEL_NAMESPACE = "namespace"
LABEL_PIPELINE = "pipeline"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def selector(namespace: str, pipeline: str) -> str:
    return f"{{{LABEL_NAMESPACE}={_quote(namespace)},{LABEL_PIPELINE}={_quote(pipeline)}}}"


def counter_query(name: str, namespace: str, pipeline: str, window_s: int) -> str:
    by = ", ".join(COUNTERS[name])
    return f"sum by ({by}) (increase({name}{selector(namespace, pipeline)}[{window_s}s]))"


def p95_query(namespace: str, pipeline: str, window_s: int) -> str:
    return (f"histogram_quantile({QUANTILE}, sum by (le, variant) "
            f"(rate({BUCKETS}{selector(namespace, pipeline)}[{window_s}s])))")  # fmt: skip


def queries(namespace: str, pipeline: str, window_s: int) -> dict[str, str]:
    """Counter sample name (or ``p95``) -> PromQL. Buckets come from ``histogram_quantile``."""
    out = {name: counter_query(name, namespace, pipeline, window_s) for name in COUNTERS if name != BUCKETS}
    out["p95"] = p95_query(namespace, pipeline, window_s)
    return out


def vector(body: Any) -> list[tuple[dict[str, str], float]]:
    """The (labels, value) rows of an instant-vector answer; ValueError for anything else."""
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise ValueError(f"query failed: {error or body!r}"[:300])
    data = body.get("data") or {}
    if data.get("resultType") != "vector":
        raise ValueError(f"expected a vector, got {data.get('resultType')!r}")
    return [(dict(row["metric"]), float(row["value"][1])) for row in data.get("result", [])]


class PrometheusSource:
    def __init__(self, base_url: str, *, timeout_s: float = TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def _query(self, session: aiohttp.ClientSession, promql: str) -> list[tuple[dict[str, str], float]]:
        async with session.post(self.base_url + "/api/v1/query", data={"query": promql}) as response:
            if response.status not in (200, 400, 422):  # 400 and 422 carry Prometheus' error message
                raise ValueError(f"HTTP {response.status} from {self.base_url}/api/v1/query")
            return vector(await response.json(content_type=None))

    async def measure(self, namespace: str, pipeline: str, variants: list[str], window_s: int) -> Measurement:
        wanted = queries(namespace, pipeline, window_s)
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                answers = await asyncio.gather(*(self._query(session, promql) for promql in wanted.values()))
        except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
            return Measurement(error=f"Prometheus at {self.base_url}: {describe(exc)}")
        rows = dict(zip(wanted, answers, strict=True))
        if not rows[REQUESTS]:
            return Measurement(error=f"Prometheus at {self.base_url} has no {REQUESTS} series with "
                               f"{LABEL_NAMESPACE}={_quote(namespace)}, {LABEL_PIPELINE}={_quote(pipeline)} "
                               f"in the last {window_s} s: does it scrape the router with those labels, "
                               "more often than once a window?")  # fmt: skip
        totals: Totals = {}
        for name, found in rows.items():
            if name == "p95":
                continue
            for metric, value in found:
                totals[(name, tuple(sorted((k, v) for k, v in metric.items() if k in COUNTERS[name])))] = value
        p95 = {m.get("variant", ""): None if math.isnan(v) else v * 1000 for m, v in rows["p95"]}
        return Measurement(samples=samples(totals, variants, p95_ms=p95))
