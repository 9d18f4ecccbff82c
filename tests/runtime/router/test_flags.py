"""The router's table from flags: what is accepted, and a clear message for what is not."""

from __future__ import annotations

import pytest

from evolved_runtime.router.flags import FlagError, table_from_flags
from evolved_runtime.router.table import Mirror, Sticky, Variant


def test_variants_endpoints_weights_sticky_and_mirror_make_one_table() -> None:
    table = table_from_flags(
        ["stable=http://127.0.0.1:8001", "canary=http://localhost:8002", "stable=http://127.0.0.1:8003/"],
        ["stable=90", "canary=10"],
        sticky_header="X-User",
        sticky_openai_user=True,
        mirror="canary=5",
    )
    assert table.variants == (
        Variant("stable", 90, (("127.0.0.1", 8001), ("127.0.0.1", 8003))),
        Variant("canary", 10, (("localhost", 8002),)),
    )
    assert table.sticky == Sticky("x-user", True)
    assert table.mirror == Mirror("canary", 5)
    assert table.weights_text() == "stable=90,canary=10"


def test_without_weights_the_first_variant_takes_everything() -> None:
    table = table_from_flags(["a=http://127.0.0.1:1", "b=http://127.0.0.1:2"])
    assert table.weights() == {"a": 100, "b": 0}


def test_a_variant_without_a_weight_gets_none_when_the_others_sum_to_100() -> None:
    table = table_from_flags(
        ["a=http://h:1", "b=http://h:2", "shadow=http://h:3"], ["a=50", "b=50"], mirror="shadow=10"
    )
    assert table.weights() == {"a": 50, "b": 50, "shadow": 0}


INVALID = {
    "no variant": ([], [], None, "at least one --variant"),
    "a variant without a URL": (["stable"], [], None, "expected NAME=VALUE"),
    "an upper-case variant name": (["Stable=http://h:1"], [], None, "not a valid variant name"),
    "an https URL": (["a=https://h:1"], [], None, "http://HOST:PORT"),
    "a URL with a path": (["a=http://h:1/v1"], [], None, "without a path"),
    "a port out of range": (["a=http://h:99999"], [], None, "--variant URL"),
    "the same endpoint twice": (["a=http://h:1", "a=http://h:1"], [], None, "given twice"),
    "weights not summing to 100": (["a=http://h:1", "b=http://h:2"], ["a=90", "b=20"], None, "sum to 110"),
    "a weight above 100": (["a=http://h:1"], ["a=101"], None, "must be 0-100"),
    "a weight that is not a number": (["a=http://h:1"], ["a=ten"], None, "is not an integer"),
    "a weight for an unknown variant": (["a=http://h:1"], ["a=90", "x=10"], None, "unknown variant: x"),
    "a variant weighted twice": (["a=http://h:1"], ["a=50", "a=50"], None, "has a weight already"),
    "a mirror of an unknown variant": (["a=http://h:1"], [], "b=10", "no --variant named b"),
    "a mirror of 0 percent": (["a=http://h:1", "b=http://h:2"], [], "b=0", "must be 1-100"),
}


@pytest.mark.parametrize(("variants", "weights", "mirror", "message"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_flags_are_refused_with_a_message_saying_why(
    variants: list[str], weights: list[str], mirror: str | None, message: str
) -> None:
    with pytest.raises(FlagError, match=message):
        table_from_flags(variants, weights, mirror=mirror)


def test_an_invalid_sticky_header_is_refused() -> None:
    with pytest.raises(FlagError, match="not a valid HTTP header name"):
        table_from_flags(["a=http://h:1"], sticky_header="x user")
