"""Pure parts of the LLM path, as tables: the retry schedule, the circuit breaker, health, the
rate-limit window, the cache's key and LRU, budgets and API keys."""

from __future__ import annotations

import pytest

from evolved_runtime.admission.auth import ApiKeys, parse_keys
from evolved_runtime.admission.budgets import over, window_ids
from evolved_runtime.admission.cache import MemoryLRU, cache_key
from evolved_runtime.admission.health import Recent, judge
from evolved_runtime.admission.ratelimit import retry_after_s, sliding_count
from evolved_runtime.config import BreakerConfig, HealthConfig
from evolved_runtime.llm.breaker import Breaker
from evolved_runtime.llm.retry import backoff_s, parse_retry_after, retriable_status


@pytest.mark.parametrize(
    ("status", "retriable"),
    [(500, True), (502, True), (503, True), (529, True), (429, True), (408, True),
     (400, False), (401, False), (403, False), (404, False), (422, False)],
)  # fmt: skip
def test_only_timeouts_rate_limits_and_server_errors_are_retried(status: int, retriable: bool) -> None:
    assert retriable_status(status) is retriable


@pytest.mark.parametrize(
    ("name", "retry", "draw", "retry_after", "expected"),
    [
        ("the first wait is a jittered share of the base", 0, 0.5, None, 0.05),
        ("each retry doubles the step", 2, 1.0, None, 0.4),
        ("the step is capped", 10, 1.0, None, 5.0),
        ("a draw of zero waits nothing", 3, 0.0, None, 0.0),
        ("Retry-After is honoured as the wait", 0, 0.1, 2.0, 2.0),
        ("a Retry-After past the cap moves on to the next provider", 0, 0.5, 30.0, None),
    ],
)
def test_backoff_schedule(
    name: str, retry: int, draw: float, retry_after: float | None, expected: float | None
) -> None:
    assert backoff_s(retry, 0.1, 5.0, draw, retry_after) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), (None, None), ("soon", None), ("nan", None),
     ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0)],
)  # fmt: skip
def test_retry_after_as_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=60.0) == expected


CONFIG = BreakerConfig(failures=3, failure_ratio=0.6, window=6, min_calls=4, open_s=10)


def run(events: list[tuple[str, float]]) -> list[str]:
    """Play (event, time) on a fresh breaker: "ok"/"fail" record, "allow" asks; returns the state after each
    (an "allow" adds "yes"/"no")."""
    breaker = Breaker(CONFIG)
    out = []
    for event, now in events:
        if event == "allow":
            out.append(("yes " if breaker.allow(now) else "no ") + breaker.state)
        else:
            breaker.record(event == "ok", now)
            out.append(breaker.state)
    return out


@pytest.mark.parametrize(
    ("name", "events", "states"),
    [
        ("successes keep it closed", [("ok", 0), ("ok", 1)], ["closed", "closed"]),
        ("three failures in a row open it", [("fail", 0), ("fail", 1), ("fail", 2)], ["closed", "closed", "open"]),
        ("a success resets the run of failures", [("ok", 0)] * 6 + [("fail", 1), ("fail", 2), ("ok", 3), ("fail", 4)],
         ["closed"] * 10),
        ("most of the window failing opens it", [("fail", 0), ("ok", 1), ("fail", 2), ("fail", 3)],
         ["closed", "closed", "closed", "open"]),
        ("failures among too few calls do not count as a ratio", [("fail", 0), ("ok", 1), ("fail", 2)],
         ["closed", "closed", "closed"]),
        ("open refuses calls until open_s has passed", [("fail", 0)] * 3 + [("allow", 5)],
         ["closed", "closed", "open", "no open"]),
        ("after open_s one probe goes through", [("fail", 0)] * 3 + [("allow", 10), ("allow", 11)],
         ["closed", "closed", "open", "yes half_open", "no half_open"]),
        ("a probe's success closes it", [("fail", 0)] * 3 + [("allow", 10), ("ok", 11), ("allow", 12)],
         ["closed", "closed", "open", "yes half_open", "closed", "yes closed"]),
        ("a probe's failure opens it again", [("fail", 0)] * 3 + [("allow", 10), ("fail", 11), ("allow", 12)],
         ["closed", "closed", "open", "yes half_open", "open", "no open"]),
        ("a probe that never reports is replaced after open_s", [("fail", 0)] * 3 + [("allow", 10), ("allow", 20)],
         ["closed", "closed", "open", "yes half_open", "yes half_open"]),
    ],
)  # fmt: skip
def test_circuit_breaker(name: str, events: list[tuple[str, float]], states: list[str]) -> None:
    assert run(events) == states


HEALTH = HealthConfig(min_requests=10, degraded_error_ratio=0.1, unhealthy_error_ratio=0.5, degraded_latency_s=2)


@pytest.mark.parametrize(
    ("name", "recent", "circuits", "status"),
    [
        ("quiet and closed is healthy", Recent(0, 0, 0), {"a": "closed"}, "healthy"),
        ("no LLM at all is healthy", Recent(20, 0, 1), {}, "healthy"),
        ("one open circuit is degraded", Recent(20, 0, 1), {"a": "open", "b": "closed"}, "degraded"),
        ("a half-open circuit is degraded", Recent(20, 0, 1), {"a": "half_open"}, "degraded"),
        ("every circuit open is unhealthy", Recent(0, 0, 0), {"a": "open", "b": "open"}, "unhealthy"),
        ("a few errors are degraded", Recent(20, 3, 1), {}, "degraded"),
        ("most requests failing is unhealthy", Recent(20, 12, 1), {}, "unhealthy"),
        ("errors among too few requests do not count", Recent(4, 4, 0), {}, "healthy"),
        ("slow answers are degraded", Recent(10, 0, 30), {}, "degraded"),
    ],
)
def test_health_verdict(name: str, recent: Recent, circuits: dict[str, str], status: str) -> None:
    got, reasons = judge(recent, circuits, HEALTH)
    assert got == status
    assert bool(reasons) is (status != "healthy")


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "count"),
    [(0, 5, 30, 5), (10, 0, 0, 10), (10, 0, 30, 5), (10, 2, 45, 4.5), (10, 0, 60, 0)],
)
def test_sliding_window_weights_the_previous_minute(
    previous: float, current: float, elapsed: float, count: float
) -> None:
    assert sliding_count(previous, current, elapsed) == pytest.approx(count)


@pytest.mark.parametrize(
    ("previous", "current", "limit", "elapsed", "wait"),
    [(0, 10, 10, 20, 40), (10, 0, 5, 0, 30), (0, 0, 5, 59.5, 1), (10, 4, 5, 30, 24)],
)
def test_retry_after_is_when_the_window_has_room(previous: float, current: float, limit: float, elapsed: float,
                                                 wait: int) -> None:  # fmt: skip
    assert retry_after_s(previous, current, limit, elapsed) == wait


def test_the_cache_key_ignores_white_space_runs_but_not_programs_or_parameters() -> None:
    base = cache_key("v1", "h1", "m", [("user", "Hello  world")], {"temperature": 0})
    assert base == cache_key("v1", "h1", "m", [("user", " Hello world ")], {"temperature": 0})
    assert base != cache_key("v1", "h2", "m", [("user", "Hello world")], {"temperature": 0})
    assert base != cache_key("v2", "h1", "m", [("user", "Hello world")], {"temperature": 0})
    assert base != cache_key("v1", "h1", "m", [("user", "Hello world")], {"temperature": 1})
    assert base != cache_key("v1", "h1", "m", [("system", "Hello world")], {"temperature": 0})


def test_the_memory_cache_evicts_the_least_recently_used_and_expires_entries() -> None:
    now = [0.0]
    lru = MemoryLRU(2, ttl_s=10, clock=lambda: now[0])
    lru.put("a", b"1")
    lru.put("b", b"2")
    assert lru.get("a") == b"1"  # a is now the most recent
    lru.put("c", b"3")
    assert lru.get("b") is None
    assert lru.get("a") == b"1"
    now[0] = 10.0
    assert lru.get("a") is None


@pytest.mark.parametrize(
    ("spent_before", "limit", "refused"), [(0.0, 1.0, False), (0.99, 1.0, False), (1.0, 1.0, True), (2.0, 1.0, True)]
)
def test_a_call_is_refused_once_the_total_before_it_reached_the_limit(
    spent_before: float, limit: float, refused: bool
) -> None:
    assert over(spent_before, limit) is refused


def test_budget_windows_are_utc_hour_day_and_month() -> None:
    assert window_ids(0) == {"hour": "1970010100", "day": "19700101", "month": "197001"}


def test_api_keys_are_matched_by_digest_and_known_by_a_short_id() -> None:
    keys = ApiKeys(parse_keys("k-one, k-two\nk-three"))
    assert len(keys.digests) == 3
    found = keys.key_id("Bearer k-two")
    assert found is not None
    assert len(found) == 12
    assert "k-two" not in found
    assert keys.key_id("bearer k-two") == found
    assert keys.key_id("Bearer k-four") is None
    assert keys.key_id("k-two") is None
    assert keys.key_id(None) is None


async def test_a_per_key_budget_stops_one_caller_and_not_another() -> None:
    from evolved_runtime.admission.budgets import Budgets
    from evolved_runtime.config import BudgetConfig
    from evolved_runtime.errors import ServiceError

    budgets = Budgets(BudgetConfig(per_key_daily_usd=1.0), redis=None, clock=lambda: 86400.0 * 100 + 86399.5)
    reserved = await budgets.reserve("ann", 0.4)
    await budgets.settle("ann", reserved, 1.2)  # the real cost was higher than the estimate
    with pytest.raises(ServiceError) as caught:
        await budgets.reserve("ann", 0.1)
    assert caught.value.code == "budget_exceeded"
    assert caught.value.retry_after == "1"  # the clock above is half a second before midnight (UTC)
    assert await budgets.reserve("bob", 0.4) == 0.4
    refusal = budgets.exceeded_now("ann")  # the admission's view, without a reservation
    assert refusal is not None
    assert (refusal.code, refusal.retry_after) == ("budget_exceeded", "1")
    assert budgets.exceeded_now("bob") is None


async def test_the_budget_alert_is_judged_on_real_costs_not_on_an_estimate(caplog: pytest.LogCaptureFixture) -> None:
    from evolved_runtime.admission.budgets import Budgets
    from evolved_runtime.config import BudgetConfig

    budgets = Budgets(BudgetConfig(hourly_usd=1.0), redis=None, clock=lambda: 3600.0 * 10)
    with caplog.at_level("WARNING", logger="evolved_runtime.budgets"):
        reserved = await budgets.reserve("ann", 0.9)  # a generous estimate: 90% of the hour's budget
        await budgets.settle("ann", reserved, 0.01)  # the call cost one cent
        assert [r.message for r in caplog.records] == []
        reserved = await budgets.reserve("ann", 0.05)
        await budgets.settle("ann", reserved, 0.8)  # now 81% is really spent
    alerts = [r for r in caplog.records if r.message == "budget alert"]
    assert len(alerts) == 1
    assert alerts[0].fields["spent_usd"] == pytest.approx(0.81)  # type: ignore[attr-defined]
