"""In-memory view of the objects the operator owns, fed by watch events (an informer, in short).

Reconciles read children from here instead of listing them from the API, so a resync costs no
API request, and decide what to apply by comparing the hash of the desired object with the hash
annotation each applied child carries. Only the few fields the operator reads are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evolved_operator.constants import ANNOTATION_APPLIED_HASH, LABEL_PIPELINE
from evolved_operator.drift import other_writers, owned_fields_hash
from evolved_operator.status import DeploymentState, observe_deployment
from evolved_operator.traffic.observe import LeaseState, RouteState, observe_lease, observe_route

PipelineKey = tuple[str, str]  # (namespace, name)
ChildKey = tuple[str, str]  # (kind, name)


@dataclass(frozen=True)
class Child:
    """What the operator needs to know of one owned object."""

    kind: str
    name: str
    namespace: str
    api_version: str
    applied_hash: str | None
    deployment: DeploymentState | None = None  # the summary status needs, for Deployments only
    lease: LeaseState | None = None  # the router's report, for its Lease
    route: RouteState | None = None  # weights and the gateways' verdicts, for an HTTPRoute
    owned_fields: str | None = None  # hash of the fields the operator's applies own (drift)
    writers: tuple[str, ...] = ()  # other managers that wrote the object (named when it drifts)


def summarize(obj: Mapping[str, Any]) -> Child:
    meta = obj.get("metadata", {})
    annotations = meta.get("annotations") or {}
    kind = str(obj.get("kind"))
    return Child(
        kind=kind,
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace")),
        api_version=str(obj.get("apiVersion")),
        applied_hash=annotations.get(ANNOTATION_APPLIED_HASH),
        deployment=observe_deployment(obj) if kind == "Deployment" else None,
        lease=observe_lease(obj) if kind == "Lease" else None,
        route=observe_route(obj) if kind == "HTTPRoute" else None,
        owned_fields=owned_fields_hash(meta),
        writers=other_writers(meta),
    )


@dataclass
class ChildCache:
    """Children per pipeline, keyed by (kind, name)."""

    by_pipeline: dict[PipelineKey, dict[ChildKey, Child]] = field(default_factory=dict)
    owners: dict[tuple[str, str, str], PipelineKey] = field(default_factory=dict)  # (namespace, kind, name)

    def upsert(self, obj: Mapping[str, Any]) -> PipelineKey | None:
        key = owner_key(obj)
        if key is None:
            return None
        child = summarize(obj)
        place = (key[0], child.kind, child.name)
        before = self.owners.get(place)
        if before is not None and before != key:  # its pipeline label changed: it left that pipeline
            self._drop(before, (child.kind, child.name))
        self.owners[place] = key
        self.by_pipeline.setdefault(key, {})[(child.kind, child.name)] = child
        return key

    def remove(self, obj: Mapping[str, Any]) -> PipelineKey | None:
        key = owner_key(obj)
        if key is None:
            return None
        child_key = (str(obj.get("kind")), str(obj.get("metadata", {}).get("name")))
        if self.owners.get((key[0], *child_key)) == key:
            del self.owners[(key[0], *child_key)]
        self._drop(key, child_key)
        return key

    def _drop(self, key: PipelineKey, child_key: ChildKey) -> None:
        children = self.by_pipeline.get(key, {})
        children.pop(child_key, None)
        if not children:
            self.by_pipeline.pop(key, None)

    def owner(self, namespace: str, kind: str, name: str) -> PipelineKey | None:
        """The pipeline whose child holds this name, as last watched."""
        return self.owners.get((namespace, kind, name))

    def children(self, key: PipelineKey) -> dict[ChildKey, Child]:
        return dict(self.by_pipeline.get(key, {}))

    def child(self, key: PipelineKey, child_key: ChildKey) -> Child | None:
        return self.by_pipeline.get(key, {}).get(child_key)

    def count(self) -> int:
        return sum(len(c) for c in self.by_pipeline.values())


def owner_key(obj: Mapping[str, Any]) -> PipelineKey | None:
    meta = obj.get("metadata", {})
    pipeline = (meta.get("labels") or {}).get(LABEL_PIPELINE)
    namespace = meta.get("namespace")
    if not pipeline or not namespace:
        return None
    return (str(namespace), str(pipeline))
