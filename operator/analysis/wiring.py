"""How the controller measures and judges: an :data:`Analyzer` per operator process.

The step machine (``evolved_operator.rollout``) asks for a measurement; the controller calls its
analyzer with the step's settings, which reads a source and judges the result.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from evolved_operator.api_strategy import Analysis, Strategy
from evolved_operator.rollout.state import RolloutState
from evolved_operator.rollout.steps import Judgement


@dataclass(frozen=True)
class Plain:
    """A judgement with no checks (when nothing could be measured)."""

    verdict: str
    message: str
    checks: tuple[object, ...] = ()


Analyzer = Callable[[Analysis, str, str, str, str], Awaitable[Judgement]]
"""(settings, namespace, pipeline, stable variant, candidate variant) -> a judgement."""


async def no_analysis(settings: Analysis, namespace: str, pipeline: str, stable: str, candidate: str) -> Plain:
    return Plain("Inconclusive", "this operator has no analysis source configured")


def current_analysis(strategy: Strategy, state: RolloutState) -> Analysis:
    """The analysis settings the rollout is at: the ABTest's, or the current Canary step's."""
    if strategy.type == "ABTest" and strategy.analysis is not None:
        return strategy.analysis
    step = strategy.steps[state.step] if state.step < len(strategy.steps) else None
    if step is None or step.analysis is None:
        raise ValueError(f"step {state.step} has no analysis")
    return step.analysis


Endpoints = Callable[[str, str, str], Awaitable[list[tuple[str, int]]]]
"""(namespace, service, port name) -> ready (address, port) pairs."""


def make_analyzer(endpoints: Endpoints | None = None) -> Analyzer:
    """The operator's analyzer: a router source shared by every pipeline (it keeps each one's last
    scrapes), a Prometheus source per URL; measure, then judge (``analysis.judge``). With
    ``endpoints``, the router source scrapes every router pod (the entry Service's EndpointSlices)
    and sums their windows; ``EVOLVED_ROUTER_METRICS_URL`` (a router run as a local process) wins."""
    from evolved_operator.analysis.judge import judge
    from evolved_operator.analysis.prometheus_source import PrometheusSource
    from evolved_operator.analysis.router_source import ENV_URL, RouterSource

    async def router_pods(namespace: str, pipeline: str) -> list[str]:
        assert endpoints is not None
        return [f"http://{host}:{port}/metrics" for host, port in await endpoints(namespace, pipeline, "http")]

    per_pod = endpoints is not None and not os.environ.get(ENV_URL)
    router = RouterSource(targets=router_pods if per_pod else None)
    prometheus: dict[str, PrometheusSource] = {}

    async def analyze(settings: Analysis, namespace: str, pipeline: str, stable: str, candidate: str) -> Judgement:
        if settings.provider == "prometheus" and settings.prometheus_url is not None:
            source: PrometheusSource | RouterSource = prometheus.setdefault(
                settings.prometheus_url, PrometheusSource(settings.prometheus_url)
            )
        else:
            source = router
        measurement = await source.measure(namespace, pipeline, [stable, candidate], settings.interval_seconds)
        return judge(settings, stable, candidate, measurement)

    return analyze
