"""Mirroring decisions and shadow comparison (pure)."""

from __future__ import annotations

import pytest

from evolved_runtime.router.shadow import ShadowBook, ShadowPair, compare, mirrors
from evolved_runtime.router.table import Mirror

MIRRORS = {
    "a draw under the percent is copied": (Mirror("canary", 10), "stable", 0.05, True),
    "a draw at the percent is not": (Mirror("canary", 10), "stable", 0.10, False),
    "what the mirror variant serves itself is never copied to it": (Mirror("canary", 100), "canary", 0.0, False),
    "100 percent copies everything else": (Mirror("canary", 100), "stable", 0.9999, True),
    "no mirror, no copy": (None, "stable", 0.0, False),
}


@pytest.mark.parametrize(("mirror", "primary", "draw", "expected"), list(MIRRORS.values()), ids=list(MIRRORS))
def test_which_requests_are_mirrored(mirror: Mirror | None, primary: str, draw: float, expected: bool) -> None:
    assert mirrors(mirror, primary, draw) is expected


COMPARES = {
    "the same verdict agrees": (b"VALID", b"VALID", "agree"),
    "another verdict disagrees": (b"VALID", b"NOT_VALID", "disagree"),
    "no verdict from the mirror is missing": (b"SAT", None, "missing"),
    "no verdict from the primary is missing": (None, b"SAT", "missing"),
}


@pytest.mark.parametrize(("primary", "mirror", "expected"), list(COMPARES.values()), ids=list(COMPARES))
def test_verdicts_compare(primary: bytes | None, mirror: bytes | None, expected: str) -> None:
    assert compare(primary, mirror) == expected


def test_a_pair_records_once_both_sides_answered_and_the_book_gives_the_agreement_rate() -> None:
    book = ShadowBook()
    for done, mirror_verdict in enumerate((b"VALID", b"VALID", b"VALID", b"NOT_VALID", None)):
        pair = ShadowPair(book, "stable", "canary")
        pair.answered(1, mirror_verdict)  # the mirror may answer first: nothing is recorded yet
        assert sum(book.counts.get(("stable", "canary"), {}).values()) == done
        pair.answered(0, b"VALID")
    assert dict(book.counts["stable", "canary"]) == {"agree": 3, "disagree": 1, "missing": 1}
    assert book.ratios() == {("stable", "canary"): 0.75}
