"""The router's only Kubernetes I/O: watch the pipeline and its workers' EndpointSlices, report weights.

Each kind is followed the way an informer does it: list (the full state and a resourceVersion),
then watch from that version; on any error (API unreachable, 410 Gone, a broken stream) the
router keeps serving with the table it has and lists again after a backoff (0.5 s doubling to
10 s). Every event rebuilds the table with the pure :mod:`cluster_table` and the proxy gets it
at once when its routing changed: a change reaches the proxy as fast as the watch delivers it.

After new weights are in use, they are reported on the Lease ``<pipeline>-router`` (the operator
creates it): annotation ``pipelines.evolved.io/router-weights`` (``stable=90,canary=10``) and
``spec.renewTime``. A missing Lease is logged once and the router carries on (trying again now
and then, quietly, in case the operator creates it later).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.discovery_v1 import EndpointSlice
from lightkube.types import PatchType

from evolved_runtime.router.cluster_table import LABEL_COMPONENT, LABEL_PIPELINE, same_routing, table_from_cluster
from evolved_runtime.router.proxy import Router
from evolved_runtime.router.server import Source
from evolved_runtime.router.table import Table

log = logging.getLogger("evolved_runtime.router.kube")
EvolvedPipeline = create_namespaced_resource("pipelines.evolved.io", "v1alpha1", "EvolvedPipeline", "evolvedpipelines")
ANNOTATION_WEIGHTS = "pipelines.evolved.io/router-weights"
BACKOFF_S = (0.5, 10.0)  # the first and the longest wait before trying the API again
WATCH_S = 60  # the apiserver ends each watch request after this (lightkube then starts the next)

Apply = Callable[[str, dict[str, Any] | None], None]  # (event type, object); ("RESET", None) before a listing


def empty_table() -> Table:
    """The table until the first lists arrive: no variant, every request a 503."""
    return Table((), source="kubernetes")


def micro_time(timestamp: float) -> str:
    """A Kubernetes MicroTime: RFC 3339 with microseconds, in UTC."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def source(pipeline: str, namespace: str, kubeconfig: str | None) -> Source:
    async def follow(router: Router) -> None:
        logging.getLogger("httpx2").setLevel(logging.WARNING)  # not a log line per API request
        config = KubeConfig.from_file(kubeconfig) if kubeconfig else None  # None: in-cluster, then $KUBECONFIG
        client = AsyncClient(config=config, namespace=namespace, timeout=httpx2.Timeout(10.0))
        await Follower(client, router, pipeline, namespace).run()

    return follow


class Follower:
    """Keeps the router's table equal to what the API says, and reports the weights in use."""

    def __init__(self, client: AsyncClient, router: Router, pipeline: str, namespace: str) -> None:
        self.client = client
        self.router = router
        self.name = pipeline
        self.namespace = namespace
        self.pipeline: dict[str, Any] | None = None
        self.slices: dict[str, dict[str, Any]] = {}
        self.listed: set[str] = set()
        self.reported: str | None = None
        self.report_due = asyncio.Event()
        self.lease_missing_logged = False

    async def run(self) -> None:
        selector = {LABEL_PIPELINE: self.name, LABEL_COMPONENT: "worker"}
        async with asyncio.TaskGroup() as group:
            group.create_task(
                self._follow("pipeline", EvolvedPipeline, {}, {"metadata.name": self.name}, self._pipeline)
            )
            group.create_task(self._follow("endpointslices", EndpointSlice, selector, {}, self._slice))
            group.create_task(self._report())

    def _pipeline(self, kind: str, obj: dict[str, Any] | None) -> None:
        self.pipeline = None if kind in ("DELETED", "RESET") else obj

    def _slice(self, kind: str, obj: dict[str, Any] | None) -> None:
        if kind == "RESET":
            self.slices.clear()
        elif obj is not None and kind == "DELETED":
            self.slices.pop(obj["metadata"]["name"], None)
        elif obj is not None:
            self.slices[obj["metadata"]["name"]] = obj

    async def _follow(
        self, what: str, resource: Any, labels: dict[str, str], fields: dict[str, str], apply: Apply
    ) -> None:
        delay = BACKOFF_S[0]
        selectors: dict[str, Any] = {"labels": labels or None, "fields": fields or None}
        while True:
            try:
                listing = self.client.list(resource, namespace=self.namespace, **selectors)
                items = [obj.to_dict() async for obj in listing]
                apply("RESET", None)
                for item in items:
                    apply("ADDED", item)
                self.listed.add(what)
                self._changed()
                delay = BACKOFF_S[0]
                await self._watch(resource, selectors, listing.resourceVersion, apply)
            except Exception as exc:  # the API is away or refused: keep the table, list again later
                log.warning(
                    "watch interrupted", extra={"fields": {"kind": what, "error": str(exc)[:300], "retry_s": delay}}
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_S[1])

    async def _watch(self, resource: Any, selectors: dict[str, Any], version: str, apply: Apply) -> None:
        """Follow changes from ``version`` until an error (then the caller lists again).

        lightkube's watch has no read timeout, so a connection that died without a word would
        hang it for ever. Each round is cut after WATCH_S + 15 s and started again from the last
        version seen (nothing is missed); a healthy watch is cut too, which costs one request a
        minute."""
        while True:
            try:
                async with asyncio.timeout(WATCH_S + 15):
                    watch = self.client.watch(resource, namespace=self.namespace, resource_version=version,
                                              server_timeout=WATCH_S, **selectors)  # fmt: skip
                    async for kind, obj in watch:
                        version = obj.metadata.resourceVersion or version
                        apply(kind, obj.to_dict())
                        self._changed()
            except TimeoutError:
                continue

    def _changed(self) -> None:
        if len(self.listed) < 2:
            return  # both first lists first: a pipeline without its endpoints would answer 503s
        table = table_from_cluster(self.pipeline, self.slices.values(), time.time())
        if not same_routing(table, self.router.table):
            self.router.set_table(table)
            endpoints = {v.name: len(v.endpoints) for v in table.variants}
            log.info("table changed", extra={"fields": {"weights": table.weights_text(), "endpoints": endpoints}})
        if self.pipeline is not None and table.variants and table.weights_text() != self.reported:
            self.report_due.set()

    async def _report(self) -> None:
        delay = BACKOFF_S[0]
        while True:
            await self.report_due.wait()
            self.report_due.clear()
            weights = self.router.table.weights_text()
            if await self._write_lease(weights):
                self.reported = weights
                delay = BACKOFF_S[0]
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_S[1])
                self.report_due.set()

    async def _write_lease(self, weights: str) -> bool:
        """Patch the Lease; False when it should be tried again (a missing Lease too, quietly: the
        operator may create it later)."""
        lease = f"{self.name}-router"
        patch = {
            "metadata": {"annotations": {ANNOTATION_WEIGHTS: weights}},
            "spec": {"renewTime": micro_time(time.time())},
        }
        try:
            await self.client.patch(Lease, lease, patch, namespace=self.namespace, patch_type=PatchType.MERGE)
        except ApiError as exc:
            if exc.status.code == 404:
                if not self.lease_missing_logged:
                    self.lease_missing_logged = True
                    log.warning("no Lease to report the weights on; carrying on", extra={"fields": {"lease": lease}})
                return False
            log.warning("could not report the weights", extra={"fields": {"lease": lease, "error": str(exc)[:300]}})
            return False
        except Exception as exc:
            log.warning("could not report the weights", extra={"fields": {"lease": lease, "error": str(exc)[:300]}})
            return False
        return True
