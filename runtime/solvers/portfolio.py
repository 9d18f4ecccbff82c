"""Combine the outcomes of several solvers on one task (pure)."""

from __future__ import annotations

from pydantic import BaseModel

from evolved_runtime.solvers.backends import SolveOutcome
from evolved_runtime.symil.models import Verdict


class PortfolioOutcome(BaseModel):
    verdict: Verdict
    outcomes: list[SolveOutcome]
    agree: bool | None  # None when fewer than two solvers gave a definite verdict


def combine(outcomes: list[SolveOutcome]) -> PortfolioOutcome:
    """A definite verdict wins over UNKNOWN; definite verdicts that disagree give UNKNOWN, agree=False."""
    definite = [o for o in outcomes if o.verdict != "UNKNOWN"]
    verdicts = {o.verdict for o in definite}
    if not definite:
        return PortfolioOutcome(verdict="UNKNOWN", outcomes=outcomes, agree=None)
    if len(verdicts) > 1:
        return PortfolioOutcome(verdict="UNKNOWN", outcomes=outcomes, agree=False)
    return PortfolioOutcome(verdict=definite[0].verdict, outcomes=outcomes, agree=True if len(definite) > 1 else None)


def chosen(portfolio: PortfolioOutcome) -> SolveOutcome | None:
    """The outcome whose model and detail back the combined verdict (first definite one)."""
    return next((o for o in portfolio.outcomes if o.verdict == portfolio.verdict != "UNKNOWN"), None)
