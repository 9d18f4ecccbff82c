"""Admission: the stages every chat request passes (auth, rate limit, budget, cache, settle)."""

from evolved_runtime.admission.stages import CURRENT, Admission, Ticket

__all__ = ["CURRENT", "Admission", "Ticket"]
