"""Which source measures an analysis: its ``provider`` decides.

The controller keeps one :class:`Sources` for its lifetime: the ``router`` source remembers the
last scrape of each pipeline, so it must not be made anew per measurement. Prometheus sources
hold nothing and are made per base URL.
"""

from __future__ import annotations

from evolved_operator.analysis import Source
from evolved_operator.analysis.prometheus_source import PrometheusSource
from evolved_operator.analysis.router_source import RouterSource
from evolved_operator.api_strategy import Analysis


class Sources:
    def __init__(self, router: RouterSource | None = None) -> None:
        self.router = router or RouterSource()

    def of(self, settings: Analysis) -> Source:
        if settings.provider == "prometheus":
            assert settings.prometheus_url is not None  # a CEL rule of the CRD requires it
            return PrometheusSource(settings.prometheus_url)
        return self.router
