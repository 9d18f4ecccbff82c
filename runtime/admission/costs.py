"""Tokens and USD by provider, model, variant and tier: the ``GET /costs`` table and its metrics."""

from __future__ import annotations

from typing import Any

from evolved_runtime import metrics


class CostTable:
    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.rows: dict[tuple[str, str, str], list[float]] = {}  # (provider, model, tier) -> calls, in, out, usd

    def record(self, provider: str, model: str, tier: str, usage: dict[str, int], usd: float) -> None:
        row = self.rows.get((provider, model, tier))
        if row is None:
            row = self.rows[(provider, model, tier)] = [0, 0, 0, 0.0]
        row[0] += 1
        row[1] += usage.get("prompt_tokens", 0)
        row[2] += usage.get("completion_tokens", 0)
        row[3] += usd
        metrics.llm_spent(provider, model, self.variant, tier, usage, usd)

    def report(self) -> dict[str, Any]:
        rows = [
            {"provider": p, "model": m, "variant": self.variant, "tier": t, "requests": int(r[0]),
             "input_tokens": int(r[1]), "output_tokens": int(r[2]), "cost_usd": round(r[3], 9)}
            for (p, m, t), r in sorted(self.rows.items())
        ]  # fmt: skip
        total = round(sum(r[3] for r in self.rows.values()), 9)
        return {"object": "costs", "scope": "this worker process since it started", "total_usd": total, "data": rows}
