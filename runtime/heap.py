"""The garbage collector's view of a long-running process.

A worker imports FastAPI, pydantic, Z3 and Clingo at start-up: tens of thousands of objects
that live as long as the process. CPython's full collection walks all of them, about 50 ms on
this project's machine, and it pauses the event loop (or the solver) at a random request: the
tail of the latency. ``freeze_start_up_heap`` moves everything alive once start-up is done into
the permanent generation, so later collections walk only what requests allocate (the pattern
``gc.freeze`` was added for). Objects frozen this way are never collected; that is only the
start-up heap, which lives until the process ends anyway.
"""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> int:
    """Collect once, then exempt every surviving object from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
