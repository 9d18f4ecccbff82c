"""Pure pick: the weighted split and sticky keys by weighted rendezvous hashing."""

from __future__ import annotations

import pytest

from evolved_runtime.router.pick import Split

KEYS = [f"user-{i}".encode() for i in range(100_000)]


def shares(split: Split, keys: list[bytes]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for key in keys:
        name = split.by_key(key)
        assert name is not None
        counts[name] = counts.get(name, 0) + 1
    return {name: count / len(keys) for name, count in counts.items()}


def moved(before: Split, after: Split) -> float:
    return sum(before.by_key(k) != after.by_key(k) for k in KEYS) / len(KEYS)


DRAWS = {
    "a draw at 0 goes to the first variant": ({"stable": 90, "canary": 10}, 0.0, "stable"),
    "a draw just under the first share stays on it": ({"stable": 90, "canary": 10}, 0.8999, "stable"),
    "a draw at the first share goes to the next": ({"stable": 90, "canary": 10}, 0.9, "canary"),
    "a draw near 1 goes to the last": ({"stable": 90, "canary": 10}, 0.99999, "canary"),
    "a variant with weight 0 never gets a draw": ({"stable": 100, "shadow": 0}, 0.99999, "stable"),
    "weights need not sum to 100": ({"a": 1, "b": 1}, 0.6, "b"),
}


@pytest.mark.parametrize(("weights", "draw", "expected"), list(DRAWS.values()), ids=list(DRAWS))
def test_a_draw_picks_by_cumulative_weight(weights: dict[str, int], draw: float, expected: str) -> None:
    assert Split.of(weights).by_weight(draw) == expected


def test_no_variant_taking_traffic_picks_nothing() -> None:
    split = Split.of({"a": 0, "b": 0})
    assert split.by_weight(0.5) is None
    assert split.by_key(b"user") is None
    assert split.pick(None) is None


def test_the_same_key_always_lands_on_the_same_variant_in_any_split_with_those_weights() -> None:
    first, second = Split.of({"stable": 70, "canary": 30}), Split.of({"stable": 70, "canary": 30})
    assert all(first.by_key(k) == second.by_key(k) == first.pick(k) for k in KEYS[:5000])


@pytest.mark.parametrize(
    "weights", [{"stable": 90, "canary": 10}, {"stable": 50, "canary": 50}, {"a": 60, "b": 30, "c": 10}]
)
def test_keys_spread_over_variants_like_the_weights(weights: dict[str, int]) -> None:
    got = shares(Split.of(weights), KEYS)
    for name, weight in weights.items():
        assert got[name] == pytest.approx(weight / 100, abs=0.01)


def test_raising_a_variant_from_10_to_20_moves_a_tenth_of_the_keys_all_to_it() -> None:
    before, after = Split.of({"stable": 90, "canary": 10}), Split.of({"stable": 80, "canary": 20})
    changed = [k for k in KEYS if before.by_key(k) != after.by_key(k)]
    assert len(changed) / len(KEYS) == pytest.approx(0.10, abs=0.01)
    assert {after.by_key(k) for k in changed} == {"canary"}  # only the keys that must move


def test_with_three_variants_a_10_to_20_change_moves_about_11_percent() -> None:
    # 10% must move to canary; rendezvous hashing also trades about 1% between the other two
    before = Split.of({"stable": 80, "canary": 10, "other": 10})
    after = Split.of({"stable": 70, "canary": 20, "other": 10})
    assert 0.10 <= moved(before, after) <= 0.115


def test_adding_a_variant_takes_keys_only_to_the_new_variant() -> None:
    before, after = Split.of({"stable": 100}), Split.of({"stable": 90, "canary": 10})
    changed = [k for k in KEYS[:20000] if before.by_key(k) != after.by_key(k)]
    assert {after.by_key(k) for k in changed} == {"canary"}
    assert len(changed) / 20000 == pytest.approx(0.10, abs=0.01)
