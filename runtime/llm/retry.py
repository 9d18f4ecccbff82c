"""The retry schedule, pure: which failures are retried and how long to wait before the next try.

Full jitter (a uniform draw between 0 and the capped exponential step), as AWS's architecture
blog recommends for many clients retrying the same upstream; a ``Retry-After`` the upstream
sent is honoured as the least wait, and one longer than the cap moves on to the next provider.
"""

from __future__ import annotations

import email.utils
import math

RETRIABLE_STATUSES = frozenset({408, 409, 425, 429})


def retriable_status(status: int) -> bool:
    """429, 5xx and the few 4xx that mean "try again" are retried; other 4xx never are."""
    return status >= 500 or status in RETRIABLE_STATUSES


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, float(when.timestamp()) - now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def backoff_s(retry: int, base_s: float, max_s: float, draw: float, retry_after_s: float | None) -> float | None:
    """The wait before retry number ``retry`` (0 for the first), or None: do not retry here.

    ``draw`` is a uniform number in [0, 1) (the jitter). A ``Retry-After`` longer than ``max_s``
    means this provider will not take the call soon: move on instead of waiting.
    """
    if retry_after_s is not None:
        return None if retry_after_s > max_s else retry_after_s
    return draw * min(max_s, base_s * 2.0**retry)
