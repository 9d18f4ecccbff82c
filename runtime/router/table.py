"""The router's table: what it routes by (variants, weights, endpoints, sticky keys, mirror).

A table is an immutable snapshot. Its sources (flags, or the Kubernetes watches) build a new
one on every change and the proxy swaps its reference in one assignment on the event loop, so a
request is routed by one consistent table from start to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Address = tuple[str, int]  # (host, port) of one worker endpoint


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    weight: int  # share of the traffic without a sticky key, 0-100 (0: only mirrored or failed-over traffic)
    endpoints: tuple[Address, ...] = ()


@dataclass(frozen=True, slots=True)
class Sticky:
    header: str | None = None  # lower-case request header name whose value is the key
    openai_user: bool = False  # the JSON body's `user` field is the key (the header wins when both are there)

    @property
    def enabled(self) -> bool:
        return self.header is not None or self.openai_user


@dataclass(frozen=True, slots=True)
class Mirror:
    variant: str
    percent: int  # 1-100: the share of the requests other variants serve that is copied to `variant`


@dataclass(frozen=True, slots=True)
class Table:
    variants: tuple[Variant, ...]
    sticky: Sticky = field(default_factory=Sticky)
    mirror: Mirror | None = None
    source: str = "flags"  # flags | kubernetes
    updated_at: float = 0.0  # wall-clock time of the change (time.time())

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def weights(self) -> dict[str, int]:
        return {v.name: v.weight for v in self.variants}

    def weights_text(self) -> str:
        """``stable=90,canary=10``: the weights in the table's variant order."""
        return ",".join(f"{v.name}={v.weight}" for v in self.variants)

    def with_weights(self, weights: dict[str, int], updated_at: float) -> Table:
        """This table with new weights (variants not named keep theirs)."""
        variants = tuple(Variant(v.name, weights.get(v.name, v.weight), v.endpoints) for v in self.variants)
        return Table(variants, self.sticky, self.mirror, self.source, updated_at)


def check_weights(weights: dict[str, int], names: list[str]) -> str | None:
    """Why these weights cannot be used for variants ``names`` (None: they can)."""
    unknown = sorted(set(weights) - set(names))
    if unknown:
        return f"weight for an unknown variant: {', '.join(unknown)} (variants: {', '.join(names)})"
    bad = sorted(name for name, w in weights.items() if not 0 <= w <= 100)
    if bad:
        return f"weights must be 0-100: {', '.join(f'{n}={weights[n]}' for n in bad)}"
    total = sum(weights.values())
    if weights and total != 100:
        return f"weights must sum to 100, they sum to {total}"
    return None
