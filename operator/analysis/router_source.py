"""The ``router`` analysis provider: the router pods' own ``/metrics``, no Prometheus needed.

Each measurement scrapes the router and subtracts the previous scrape of the same target (kept in
memory per pipeline and URL): the window is the time since the last measurement. Hence:

- the first measurement of a pipeline only primes and is Inconclusive ("first scrape: no window
  yet"), and so is the first after an operator restart (the memory is gone);
- a counter that went down means the router restarted: the scrape primes again (Inconclusive);
- a previous scrape older than ``STALE_FACTOR`` x ``window_s`` (the analysis stopped and started
  again, at other weights) primes again too, so a window never mixes two steps' traffic.

The URL comes from a template with ``{name}`` (the pipeline) and ``{namespace}``: by default the
pipeline's entry Service, which fronts the router pods; ``EVOLVED_ROUTER_METRICS_URL`` overrides
it (e.g. ``http://127.0.0.1:18080/metrics`` for a router run as a local process). With several
router replicas behind that Service each scrape reaches one of them at random and differences
between two pods mean nothing: give the source a ``targets`` function that lists every router
pod's URL (from the router's EndpointSlice), and it sums the pods' windows. A pod first seen in a
measurement is primed and left out of that window.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from evolved_operator.analysis import Measurement
from evolved_operator.analysis.window import Totals, increase, parse, samples

ENV_URL = "EVOLVED_ROUTER_METRICS_URL"
DEFAULT_TEMPLATE = "http://{name}.{namespace}.svc:80/metrics"
TIMEOUT_S = 3.0
STALE_FACTOR = 2.0

Targets = Callable[[str, str], Awaitable[list[str]]]  # (namespace, pipeline) -> metrics URLs


@dataclass(frozen=True)
class Scrape:
    at: float  # monotonic seconds
    totals: Totals


class RouterSource:
    def __init__(
        self,
        template: str | None = None,
        *,
        targets: Targets | None = None,
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.template = template or os.environ.get(ENV_URL) or DEFAULT_TEMPLATE
        self.targets = targets or self._from_template
        self.timeout_s = timeout_s
        self.clock = clock
        self.previous: dict[tuple[str, str], dict[str, Scrape]] = {}  # (namespace, pipeline) -> url -> scrape

    async def _from_template(self, namespace: str, pipeline: str) -> list[str]:
        return [self.template.format(name=pipeline, namespace=namespace)]

    def forget(self, namespace: str, pipeline: str) -> None:
        """Drop a pipeline's last scrapes (it was deleted, or its analysis ended)."""
        self.previous.pop((namespace, pipeline), None)

    async def _scrape(self, session: aiohttp.ClientSession, url: str) -> Totals:
        async with session.get(url) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status} from {url}")
            return parse(await response.text())

    async def measure(self, namespace: str, pipeline: str, variants: list[str], window_s: int) -> Measurement:
        try:
            urls = await self.targets(namespace, pipeline)
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                scraped = await asyncio.gather(*(self._scrape(session, url) for url in urls))
        except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
            return Measurement(error=f"router metrics of {namespace}/{pipeline}: {describe(exc)}")
        if not urls:
            return Measurement(error=f"router metrics of {namespace}/{pipeline}: no router endpoint")
        now = self.clock()
        before = self.previous.get((namespace, pipeline), {})
        self.previous[(namespace, pipeline)] = {
            url: Scrape(now, totals) for url, totals in zip(urls, scraped, strict=True)
        }
        windows, why = [], "first scrape: no window yet"
        for url, totals in zip(urls, scraped, strict=True):
            old = before.get(url)
            if old is None:
                continue
            if now - old.at > STALE_FACTOR * window_s:
                why = f"the last scrape is {now - old.at:.0f} s old (window {window_s} s): window starts again"
                continue
            delta = increase(old.totals, totals)
            if delta is None:
                why = f"router {url} restarted (a counter went down): window starts again"
                continue
            windows.append(delta)
        if not windows:
            return Measurement(error=why)
        summed: Totals = {}
        for delta in windows:
            for key, value in delta.items():
                summed[key] = summed.get(key, 0.0) + value
        return Measurement(samples=samples(summed, variants))


def describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
