"""The router's table from what the API holds: an EvolvedPipeline and its workers' EndpointSlices.

Pure: plain dicts in (as the API serves them), a :class:`Table` out.

- weights: ``status.traffic.variants`` (the operator's effective decision, in its order); without
  it ``spec.variants[].weight``; with no weight anywhere the variant with ``role: stable`` takes
  100 (the first variant when none has that role). Variants of the spec that the list does not
  name follow with weight 0 (a mirror target, say).
- sticky keys: ``spec.traffic.sticky`` = ``{header, openAIUser}``; mirror: ``spec.traffic.mirror``
  = ``{variant, percent}``.
- endpoints: per variant (the slice's ``pipelines.evolved.io/variant`` label), the addresses of
  endpoints that are ready (a missing ``ready`` condition counts as ready, as the API defines it)
  with the slice's port named ``http``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from evolved_runtime.router.table import Address, Mirror, Sticky, Table, Variant

LABEL_PIPELINE = "pipelines.evolved.io/pipeline"
LABEL_VARIANT = "pipelines.evolved.io/variant"
LABEL_COMPONENT = "app.kubernetes.io/component"
PORT_NAME = "http"

Obj = Mapping[str, Any]


def _at(obj: Obj | None, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def weights_of(pipeline: Obj) -> list[tuple[str, int]]:
    spec_variants = [v for v in _at(pipeline, "spec", "variants") or [] if isinstance(v, Mapping) and v.get("name")]
    decided = _at(pipeline, "status", "traffic", "variants")
    if isinstance(decided, list) and decided:
        weights = [
            (str(v["name"]), int(v.get("weight") or 0)) for v in decided if isinstance(v, Mapping) and v.get("name")
        ]
    elif any(v.get("weight") is not None for v in spec_variants):
        weights = [(str(v["name"]), int(v.get("weight") or 0)) for v in spec_variants]
    else:
        roles = [str(v["name"]) for v in spec_variants if v.get("role") == "stable"]
        stable = roles[0] if roles else (str(spec_variants[0]["name"]) if spec_variants else None)
        weights = [(str(v["name"]), 100 if v["name"] == stable else 0) for v in spec_variants]
    named = {name for name, _ in weights}
    return weights + [(str(v["name"]), 0) for v in spec_variants if v["name"] not in named]


def sticky_of(pipeline: Obj) -> Sticky:
    header = _at(pipeline, "spec", "traffic", "sticky", "header")
    user = _at(pipeline, "spec", "traffic", "sticky", "openAIUser")
    return Sticky(header.lower() if isinstance(header, str) and header else None, user is True)


def mirror_of(pipeline: Obj) -> Mirror | None:
    mirror = _at(pipeline, "spec", "traffic", "mirror")
    if not isinstance(mirror, Mapping) or not mirror.get("variant"):
        return None
    percent = int(mirror.get("percent") or 0)
    return Mirror(str(mirror["variant"]), min(percent, 100)) if percent > 0 else None


def endpoints_of(slices: Iterable[Obj]) -> dict[str, list[Address]]:
    out: dict[str, set[Address]] = {}
    for piece in slices:
        variant = _at(piece, "metadata", "labels", LABEL_VARIANT)
        port = next((p.get("port") for p in piece.get("ports") or [] if p.get("name") == PORT_NAME), None)
        if not variant or not isinstance(port, int):
            continue
        found = out.setdefault(str(variant), set())
        for endpoint in piece.get("endpoints") or []:
            if _at(endpoint, "conditions", "ready") is False:
                continue
            found.update((str(address), port) for address in endpoint.get("addresses") or [])
    return {variant: sorted(addresses) for variant, addresses in out.items()}


def table_from_cluster(pipeline: Obj | None, slices: Iterable[Obj], now: float) -> Table:
    if pipeline is None:
        return Table((), source="kubernetes", updated_at=now)
    endpoints = endpoints_of(slices)
    variants = tuple(Variant(name, weight, tuple(endpoints.get(name, ()))) for name, weight in weights_of(pipeline))
    mirror = mirror_of(pipeline)
    if mirror is not None and all(v.name != mirror.variant for v in variants):
        mirror = None
    return Table(variants, sticky_of(pipeline), mirror, "kubernetes", now)


def same_routing(a: Table, b: Table) -> bool:
    """Whether two tables route alike (their times aside)."""
    return (a.variants, a.sticky, a.mirror) == (b.variants, b.sticky, b.mirror)
