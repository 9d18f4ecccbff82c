"""A circuit breaker per provider, as a pure state machine (time is passed in).

closed: calls go through; it opens after ``failures`` consecutive failures, or when the failure
ratio over the last ``window`` calls reaches ``failure_ratio`` (once ``min_calls`` are in).
open: calls are refused until ``open_s`` has passed; then half-open: one probe call goes
through (another only if that probe never reports within ``open_s``). The probe's success
closes the circuit (its history is cleared); its failure opens it again.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from evolved_runtime.config import BreakerConfig

State = Literal["closed", "open", "half_open"]
STATE_VALUES: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}


class Breaker:
    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state: State = "closed"
        self.opened_at = 0.0
        self.probe_at: float | None = None
        self.consecutive = 0
        self.recent: deque[bool] = deque(maxlen=config.window)  # True: a failure
        self.failed_in_window = 0

    def allow(self, now: float) -> bool:
        """May a call go to this provider now? (In half-open, this starts the probe.)"""
        if self.state == "closed":
            return True
        if self.state == "open":
            if now - self.opened_at < self.config.open_s:
                return False
            self.state = "half_open"
            self.probe_at = now
            return True
        if self.probe_at is None or now - self.probe_at >= self.config.open_s:
            self.probe_at = now  # the last probe never reported: let one more through
            return True
        return False

    def record(self, ok: bool, now: float) -> None:
        """A call's outcome (a retriable failure counts; a request the caller got wrong does not)."""
        if self.state == "half_open":
            if ok:
                self._close()
            else:
                self._open(now)
            return
        if self.state == "open":
            return  # a call that started before the circuit opened
        if len(self.recent) == self.recent.maxlen and self.recent[0]:
            self.failed_in_window -= 1
        self.recent.append(not ok)
        if ok:
            self.consecutive = 0
            return
        self.failed_in_window += 1
        self.consecutive += 1
        ratio_counts = len(self.recent) >= self.config.min_calls
        if self.consecutive >= self.config.failures or (
            ratio_counts and self.failed_in_window / len(self.recent) >= self.config.failure_ratio
        ):
            self._open(now)

    def retry_in_s(self, now: float) -> float:
        """Seconds until this provider takes a call again (0 when it takes one now)."""
        if self.state == "open":
            return max(0.0, self.config.open_s - (now - self.opened_at))
        return 0.0

    def _open(self, now: float) -> None:
        self.state = "open"
        self.opened_at = now
        self.probe_at = None

    def _close(self) -> None:
        self.state = "closed"
        self.probe_at = None
        self.consecutive = 0
        self.recent.clear()
        self.failed_in_window = 0
