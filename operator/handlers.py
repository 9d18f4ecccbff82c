"""Thin kopf registrations: they forward watch events to the :class:`Controller`.

Only ``on.event`` handlers are used, so kopf keeps no progress or diff-base annotations on the
user's objects and adds no finalizer (owner references do the garbage collection); the
controller decides from ``metadata.generation`` whether an event needs work. Settings use our
own prefix for anything kopf would persist.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterable
from typing import Any

import kopf

from evolved_operator import metrics
from evolved_operator.analysis.wiring import make_analyzer
from evolved_operator.cache import ChildCache
from evolved_operator.children import CHILD_KINDS
from evolved_operator.constants import GROUP, LABEL_MANAGED_BY, MANAGED_BY, PLURAL, VERSION
from evolved_operator.controller import Controller
from evolved_operator.kube import LightKube, is_not_found
from evolved_operator.program_check import ProgramChecker

log = logging.getLogger("evolved_operator")

OWNED = {LABEL_MANAGED_BY: MANAGED_BY}
STALLED_RETRY_SECONDS = 10.0
METRICS_PORT = 0  # set by `evolved-operator run --metrics-port` (0: no metrics server)
NAMESPACES: list[str] = []  # set by `evolved-operator run --namespace` (empty: every namespace)

_controller: Controller | None = None


def controller() -> Controller:
    if _controller is None:
        raise RuntimeError("the operator has not started yet")
    return _controller


class EventsOnlyDiffBase(kopf.AnnotationsDiffBaseStorage):
    """kopf builds a diff-base (a deep copy of the whole object, then a diff) on every watch event
    for on.create/on.update handlers; this operator has only on.event handlers and compares
    generations itself, so there is nothing to build (py-spy: the copy was 8% of the operator's
    CPU at 400 pipelines). Nothing is stored either: kopf stores a diff-base only for those
    handlers."""

    def build(self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None


def configure(settings: kopf.OperatorSettings) -> None:
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = EventsOnlyDiffBase(prefix=GROUP, key="last-handled-configuration")
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = MANAGED_BY  # kubectl shows events "From evolved-operator"
    settings.posting.reporting_instance = socket.gethostname()  # the pod's name in a cluster
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 30
    settings.networking.connect_timeout = 10
    settings.batching.error_delays = [1, 2, 5, 10, 30, 60]
    settings.batching.batch_window = 0.05
    settings.scanning.disabled = True


async def _post_event(body: dict[str, Any], event_type: str, reason: str, message: str) -> None:
    if _controller is not None and isinstance(_controller.kube, LightKube):
        _controller.kube.requests["event"] += 1
    kopf.event(body, type=event_type, reason=reason, message=message)  # type: ignore[arg-type]


async def _retry_stalled_forever(ctrl: Controller) -> None:
    while True:
        await asyncio.sleep(STALLED_RETRY_SECONDS)
        try:
            await ctrl.retry_stalled()
        except Exception:
            log.exception("retrying stalled pipelines failed")


_background: set[asyncio.Task[None]] = set()


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    global _controller
    configure(settings)
    kube = LightKube()
    _controller = Controller(kube=kube, post_event=_post_event, checker=ProgramChecker(), cache=ChildCache())
    unserved = set()
    for child in CHILD_KINDS:
        try:
            owned = [
                obj
                for namespace in NAMESPACES or ["*"]  # with Roles per namespace, a cluster-wide list is refused
                for obj in await kube.list_owned(child.api_version, child.kind, OWNED, namespace)
            ]
        except Exception as exc:
            if not (child.optional and is_not_found(exc)):
                raise
            log.warning("%s is not served by this cluster: pipelines that need it stall until it is", child.kind)
            unserved.add(child.kind)
            continue
        for obj in owned:
            _controller.cache.upsert(obj)
    _controller.unserved_kinds = frozenset(unserved)
    _controller.analyze = make_analyzer(kube.service_endpoints)
    if METRICS_PORT:
        metrics.serve(METRICS_PORT, _controller.snapshot)
    log.info("primed the cache with %d owned objects", _controller.cache.count())
    task = asyncio.create_task(_retry_stalled_forever(_controller))
    _background.add(task)
    task.add_done_callback(_background.discard)


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    for task in list(_background):
        task.cancel()
    if _controller is not None:
        _controller.stop()
    if _controller is not None and isinstance(_controller.kube, LightKube):
        requests = dict(_controller.kube.requests)
        log.info("api requests: %s; full reconciles: %d", json.dumps(requests), _controller.full_reconciles)
        await _controller.kube.close()


@kopf.on.event(GROUP, VERSION, PLURAL)
async def pipeline_event(*, type: str, body: kopf.Body, **_: Any) -> None:
    obj = dict(body)
    if type == "DELETED":
        controller().pipeline_deleted(obj)
        return
    await controller().pipeline_changed(_plain(obj))


def _register_child(group: str, version: str, plural: str) -> None:
    async def child_event(*, type: str, body: kopf.Body, **_: Any) -> None:
        await controller().child_changed(body, deleted=type == "DELETED")  # summarized, not copied

    child_event.__name__ = f"{plural}_event"
    kopf.on.event(group, version, plural, labels=OWNED)(child_event)


for _child in CHILD_KINDS:
    _register_child(_child.group, _child.version, _child.plural)


@kopf.on.event("", "v1", "configmaps", labels={LABEL_MANAGED_BY: kopf.ABSENT})
async def input_configmap_event(*, body: kopf.Body, **_: Any) -> None:
    meta = body.get("metadata", {})
    await controller().input_changed("ConfigMap", str(meta.get("namespace")), str(meta.get("name")))


def _plain(obj: Any) -> Any:
    """kopf hands out read-only mapping views: make a plain, mutable deep copy."""
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj
