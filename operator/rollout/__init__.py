"""Progressive delivery: the rollout's state (``status.rollout``) and the pure step machine."""

from __future__ import annotations

from evolved_operator.rollout.state import RolloutState, from_status
from evolved_operator.rollout.steps import Decision, Observed, next_action

__all__ = ["Decision", "Observed", "RolloutState", "from_status", "next_action"]
