"""Pure outlier ejection: consecutive failures eject an endpoint for a while, then it is retried."""

from __future__ import annotations

import pytest

from evolved_runtime.router.endpoints import Endpoints
from evolved_runtime.router.outlier import HEALTHY, Health, Policy, failed, succeeded
from evolved_runtime.router.table import Variant

POLICY = Policy(threshold=3, base_s=5.0, max_s=20.0)

# name: (start, events as (kind, time), expected state, expected state name at the last event's time)
CASES = {
    "one failure is remembered, not ejected": (HEALTHY, [("fail", 0)], Health(1, 0, 0), "healthy"),
    "a success forgets the failures before it": (HEALTHY, [("fail", 0), ("fail", 1), ("ok", 2)], HEALTHY, "healthy"),
    "three failures in a row eject for the base time": (
        HEALTHY, [("fail", 0), ("fail", 1), ("fail", 2)], Health(2, 7.0, 1), "ejected"),
    "failures while ejected change nothing": (Health(2, 7.0, 1), [("fail", 3), ("fail", 6.9)], Health(2, 7.0, 1), "ejected"),
    "a late success while ejected changes nothing": (Health(2, 7.0, 1), [("ok", 4)], Health(2, 7.0, 1), "ejected"),
    "after the ejection the endpoint is on probation": (Health(2, 7.0, 1), [], Health(2, 7.0, 1), "probation"),
    "one failure on probation ejects again for twice as long": (
        Health(2, 7.0, 1), [("fail", 8)], Health(2, 18.0, 2), "ejected"),
    "ejections in a row stop growing at the longest": (Health(2, 7.0, 3), [("fail", 8)], Health(2, 28.0, 4), "ejected"),
    "one success on probation makes it healthy and forgets the ejections": (
        Health(2, 7.0, 2), [("ok", 8)], HEALTHY, "healthy"),
}  # fmt: skip


@pytest.mark.parametrize(("start", "events", "expected", "state"), list(CASES.values()), ids=list(CASES))
def test_outlier_state_machine(start: Health, events: list[tuple[str, float]], expected: Health, state: str) -> None:
    health = start
    now = 8.0 if not events else events[-1][1]
    for kind, at in events:
        health = failed(health, at, POLICY) if kind == "fail" else succeeded(health, at)
    assert health == expected
    assert health.state(now) == state


STABLE = Variant("stable", 100, (("10.0.0.1", 8080), ("10.0.0.2", 8080), ("10.0.0.3", 8080)))


def test_endpoints_take_turns() -> None:
    endpoints = Endpoints(POLICY)
    assert [endpoints.choose(STABLE, 0) for _ in range(4)] == [*STABLE.endpoints, STABLE.endpoints[0]]


def test_an_ejected_endpoint_gets_no_turn_until_its_time_is_over() -> None:
    endpoints = Endpoints(POLICY)
    bad = STABLE.endpoints[1]
    assert [endpoints.failed(bad, t) for t in (0, 0, 0)] == [False, False, True]
    assert bad not in {endpoints.choose(STABLE, 1) for _ in range(6)}
    assert bad in {endpoints.choose(STABLE, 5.0) for _ in range(6)}
    assert endpoints.state(bad, 5.0) == "probation"
    endpoints.succeeded(bad, 5.0)
    assert endpoints.state(bad, 5.0) == "healthy"


def test_a_retry_excludes_the_endpoint_that_failed() -> None:
    endpoints = Endpoints(POLICY)
    assert {endpoints.choose(STABLE, 0, exclude=STABLE.endpoints[0]) for _ in range(6)} == set(STABLE.endpoints[1:])


def test_with_every_endpoint_ejected_the_variant_is_still_served_panic_mode() -> None:
    endpoints = Endpoints(POLICY)
    for endpoint in STABLE.endpoints:
        for _ in range(3):
            endpoints.failed(endpoint, 0)
    assert {endpoints.choose(STABLE, 1) for _ in range(3)} == set(STABLE.endpoints)


def test_a_variant_without_endpoints_or_only_the_excluded_one_has_no_choice() -> None:
    endpoints = Endpoints(POLICY)
    assert endpoints.choose(Variant("empty", 0), 0) is None
    one = Variant("one", 100, (("10.0.0.9", 80),))
    assert endpoints.choose(one, 0, exclude=one.endpoints[0]) is None


def test_health_of_addresses_that_left_the_table_is_forgotten() -> None:
    endpoints = Endpoints(POLICY)
    endpoints.failed(STABLE.endpoints[0], 0)
    endpoints.forget_except(STABLE.endpoints[1:])
    assert endpoints.health == {}
