"""The only Kubernetes I/O of the operator: server-side apply, reads, deletes, status patches.

Built on lightkube (typed, async, server-side apply with a field manager). Every other module
of the operator is pure and talks to the cluster only through :class:`Kube`. Requests are
counted per verb so the benchmark can report API requests per pipeline.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Protocol

import httpx2
from lightkube import ApiError, AsyncClient, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.discovery_v1 import EndpointSlice
from lightkube.types import PatchType

from evolved_operator.children import CHILD_KINDS
from evolved_operator.constants import FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION

EvolvedPipelineResource = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)
for _child in CHILD_KINDS:  # kinds lightkube has no model for (the Gateway API's) become generic ones
    if _child.optional:
        create_namespaced_resource(_child.group, _child.version, _child.kind, _child.plural)


class Kube(Protocol):
    """What the reconciler needs from the cluster."""

    async def apply(self, obj: dict[str, Any]) -> None: ...
    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None: ...
    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...
    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None: ...


def _resource(api_version: str, kind: str) -> Any:
    return codecs.resource_registry.load(api_version, kind)


MAX_WRITES_IN_FLIGHT = 16  # more only queue inside a busy apiserver, time out there and come back as retries
REQUEST_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


class LightKube:
    """:class:`Kube` over one lightkube AsyncClient (one connection pool for the process).

    Writes share a bound of MAX_WRITES_IN_FLIGHT: when 1,000 pipelines arrive at once, an
    unbounded burst made a two-core apiserver answer slower than the client's timeout, and every
    timed-out apply was sent again.
    """

    def __init__(self, client: AsyncClient | None = None) -> None:
        self._client = client or AsyncClient(field_manager=FIELD_MANAGER, timeout=REQUEST_TIMEOUT)
        self.requests: collections.Counter[str] = collections.Counter()
        self._writes = asyncio.Semaphore(MAX_WRITES_IN_FLIGHT)

    async def apply(self, obj: dict[str, Any]) -> None:
        """Server-side apply of a plain dict (no round trip through lightkube's models)."""
        self.requests["apply"] += 1
        meta = obj["metadata"]
        async with self._writes:
            await self._client.patch(
                _resource(obj["apiVersion"], obj["kind"]),
                meta["name"],
                obj,
                namespace=meta.get("namespace"),
                patch_type=PatchType.APPLY,
                field_manager=FIELD_MANAGER,
                force=True,
            )

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        self.requests["delete"] += 1
        try:
            async with self._writes:
                await self._client.delete(_resource(api_version, kind), name, namespace=namespace)
        except (ApiError, httpx2.HTTPStatusError) as exc:
            if not is_not_found(exc):
                raise

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.requests["get"] += 1
        try:
            found = await self._client.get(_resource(api_version, kind), name, namespace=namespace)
        except (ApiError, httpx2.HTTPStatusError) as exc:
            if is_not_found(exc):
                return None
            raise
        return dict(found.to_dict())

    async def list_owned(
        self, api_version: str, kind: str, labels: dict[str, Any], namespace: str = "*"
    ) -> list[dict[str, Any]]:
        """Every object of a kind with these labels, in ``namespace`` (``*``: all; to prime the cache)."""
        self.requests["list"] += 1
        out = []
        async for item in self._client.list(
            _resource(api_version, kind), namespace=namespace, labels=dict(labels.items())
        ):
            obj = dict(item.to_dict())
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
            out.append(obj)
        return out

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.requests["patch_status"] += 1
        async with self._writes:
            await self._client.patch(
                EvolvedPipelineResource.Status,
                name,
                {"status": status},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )

    async def service_endpoints(self, namespace: str, service: str, port_name: str) -> list[tuple[str, int]]:
        """Ready (address, port) pairs of a Service's EndpointSlices, for the port named ``port_name``."""
        self.requests["list"] += 1
        out: list[tuple[str, int]] = []
        selector: dict[str, Any] = {"kubernetes.io/service-name": service}
        async for piece in self._client.list(EndpointSlice, namespace=namespace, labels=selector):
            port = next((p.port for p in piece.ports or [] if p.name == port_name), None)
            if port is None:
                continue
            for endpoint in piece.endpoints or []:
                if endpoint.conditions is not None and endpoint.conditions.ready is False:
                    continue
                out += [(address, port) for address in endpoint.addresses]
        return sorted(out)

    async def close(self) -> None:
        await self._client.close()


def is_not_found(exc: BaseException) -> bool:
    """A 404: lightkube raises ApiError when the apiserver answers with a Status, and httpx2's
    HTTPStatusError when it answers with plain text, as it does for an API group it does not
    serve (a kind whose CRD is not installed)."""
    if isinstance(exc, ApiError):
        return exc.status.code == 404
    return isinstance(exc, httpx2.HTTPStatusError) and exc.response.status_code == 404
