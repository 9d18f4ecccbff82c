"""Which status a reconcile starts from: the one this process last wrote, unless someone else wrote
the status subresource since (a user's `kubectl patch --subresource=status`, another tool), whose
write must be overwritten, not trusted and not ignored."""

from __future__ import annotations

from typing import Any

import pytest

from evolved_operator.controller import PipelineMemory


def status(generation: int, ready: str, reason: str) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "conditions": [{"type": "Ready", "status": ready, "reason": reason, "lastTransitionTime": "t"}],
    }


BEFORE = status(1, "False", "RollingOut")  # what the object held before this process wrote
OURS = status(1, "True", "AllVariantsAvailable")  # what this process wrote
FOREIGN = status(99, "False", "Hacked")  # someone else's write


@pytest.mark.parametrize(
    ("wrote", "event", "expected"),
    [
        (False, BEFORE, BEFORE),  # nothing written yet: what the object holds
        (False, {}, {}),
        (True, OURS, OURS),  # the watch shows our write
        (True, BEFORE, OURS),  # a late event from before our write: still ours
        (True, FOREIGN, FOREIGN),  # someone else wrote: start from what the object holds
        (True, {}, {}),  # someone removed the status
        (True, {**OURS, "extra": None}, OURS),  # nulls are not stored by the apiserver
    ],
)
def test_the_known_status_is_ours_unless_someone_else_wrote_it(
    wrote: bool, event: dict[str, Any], expected: dict[str, Any]
) -> None:
    memory = PipelineMemory()
    if wrote:
        previous = memory.known_status({"status": BEFORE})
        memory.wrote_status({**previous, **OURS}, before=previous)
    assert memory.known_status({"status": event}) == expected


def test_after_a_foreign_write_is_overwritten_a_late_event_carrying_it_is_not_foreign_any_more() -> None:
    memory = PipelineMemory()
    memory.wrote_status({**BEFORE, **OURS}, before=memory.known_status({"status": BEFORE}))
    previous = memory.known_status({"status": FOREIGN})
    memory.wrote_status({**previous, **OURS}, before=previous)
    assert memory.known_status({"status": FOREIGN}) == OURS
