"""What a worker holds while it runs: config, programs, solver pool, LLM, admission, readiness."""

from __future__ import annotations

from dataclasses import dataclass, field

from evolved_runtime.admission import Admission
from evolved_runtime.config import PipelineConfig
from evolved_runtime.llm.failover import ProviderSet
from evolved_runtime.pipeline import Pipeline
from evolved_runtime.solvers.pool import SolverPool


@dataclass
class RuntimeState:
    config: PipelineConfig
    pool: SolverPool
    llm: ProviderSet | None
    admission: Admission
    pipeline: Pipeline | None = None
    reason: str = "starting: checking programs and starting the solver pool"
    program_hash: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def ready(self) -> bool:
        return self.pipeline is not None and self.pool.healthy()

    def not_ready_reason(self) -> str:
        if self.pipeline is not None and not self.pool.healthy():
            return "the solver pool has no live process"
        return self.reason
