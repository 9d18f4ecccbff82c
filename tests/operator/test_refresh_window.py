"""Status writes coalesce over a window that widens while many pipelines wait for one."""

from __future__ import annotations

import pytest

from evolved_operator.controller import refresh_window


def test_an_idle_operator_reports_status_after_the_shortest_window() -> None:
    assert refresh_window(0, 200, 1.0, 5.0) == 1.0


def test_a_burst_of_pipelines_widens_the_window_to_its_longest() -> None:
    assert refresh_window(200, 200, 1.0, 5.0) == 5.0
    assert refresh_window(5000, 200, 1.0, 5.0) == 5.0


@pytest.mark.parametrize("waiting", [10, 50, 100, 150])
def test_the_window_grows_with_the_backlog(waiting: int) -> None:
    assert refresh_window(waiting - 1, 200, 1.0, 5.0) < refresh_window(waiting, 200, 1.0, 5.0) < 5.0


def test_a_zero_busy_threshold_means_always_widest() -> None:
    assert refresh_window(0, 0, 1.0, 5.0) == 5.0
