"""The reconcile loop: desired = render(spec, resolved inputs); apply what differs; status = f(observed).

One :class:`Controller` per operator process. It is driven by watch events (the kopf handlers in
``handlers.py`` only forward them here): a pipeline event whose generation was not reconciled yet
triggers a full reconcile; any other event (a label or annotation written by a GitOps tool, a
child's status change) only recomputes status from the in-memory cache, which writes nothing
unless the status really changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from evolved_operator import metrics, traffic
from evolved_operator.analysis.wiring import Analyzer, current_analysis, no_analysis
from evolved_operator.apply_plan import ApplyPlan, key_of, name_conflicts, plan
from evolved_operator.cache import Child, ChildCache, ChildKey, PipelineKey
from evolved_operator.children import FIRST_KINDS, by_kind
from evolved_operator.desired import Desired, build_desired, pipeline_input
from evolved_operator.drift import Baseline, Revert, judge
from evolved_operator.inputs import needs_inputs, resolve_inputs
from evolved_operator.kube import Kube
from evolved_operator.problems import Problem
from evolved_operator.program_check import ProgramChecker
from evolved_operator.render import PipelineInput, child_name
from evolved_operator.rollout import Decision, from_status, next_action
from evolved_operator.rollout import plan as rollout_plan
from evolved_operator.rollout.plan import render_inputs
from evolved_operator.status import (
    DeploymentState,
    compute_status,
    first_visit,
    invalid_spec_status,
    now,
    status_mark,
    status_patch_needed,
    transition_events,
)
from evolved_operator.traffic.router_objects import router_name
from evolved_operator.traffic.status import TrafficObserved, TrafficVerdict, traffic_status

log = logging.getLogger("evolved_operator")

KNOWN_STATUS_WRITES = 16  # a watch event lags behind far fewer of one pipeline's status writes
EventPoster = Callable[[dict[str, Any], str, str, str], Awaitable[None]]


@dataclass
class PipelineMemory:
    """What the controller remembers of one pipeline between events."""

    reconciled_generation: int | None = None
    stalled: bool = False
    references: frozenset[tuple[str, str]] = frozenset()  # (kind, name) of inputs it reads
    claims: frozenset[tuple[str, str]] = frozenset()  # (kind, name) of the children it last rendered
    program_hashes: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    apply_error: str | None = None
    failures: int = 0
    desired_hashes: dict[tuple[str, str], str] = field(default_factory=dict)
    template_hashes: dict[str, str] = field(default_factory=dict)  # variant -> pod template hash
    mirror_rendered: bool = False  # whether the last render had the mirror on (a gateway's filter)
    decision: Decision | None = None  # the rollout's last decision (what the children are rendered for)
    rendered: tuple[Any, ...] = ()  # what of that decision the last apply rendered
    pipeline: PipelineInput | None = None  # the spec as last reconciled (None: the models reject it)
    # The status as this process last wrote it. A watch event can carry an older status than the
    # one just written (events lag behind writes): decisions use this, so a late event neither
    # repeats a write nor posts an event twice. An event whose status is none this process wrote
    # or started from (``marks``) was written by someone else (a user patching the status
    # subresource): decisions start from it, so the next write overwrites it.
    status: dict[str, Any] | None = None
    marks: deque[str] = field(default_factory=lambda: deque(maxlen=KNOWN_STATUS_WRITES))
    # Drift (evolved_operator.drift): each child's undisturbed field ownership, the children to
    # apply again although their hash matches, and the reverts not yet seen in an event.
    baselines: dict[ChildKey, Baseline] = field(default_factory=dict)
    drifted: set[ChildKey] = field(default_factory=set)
    reverting: dict[ChildKey, Revert] = field(default_factory=dict)

    def known_status(self, body: Mapping[str, Any]) -> dict[str, Any]:
        theirs = dict(body.get("status") or {})
        if self.status is not None and status_mark(theirs) in self.marks:
            return dict(self.status)
        return theirs

    def wrote_status(self, status: dict[str, Any], before: Mapping[str, Any] | None = None) -> None:
        """``status``: what the object holds after the write; ``before``: what it held before."""
        if before is not None:
            self.marks.append(status_mark(before))
        self.status = {k: v for k, v in status.items() if v is not None}
        self.marks.append(status_mark(self.status))


@dataclass
class Controller:
    kube: Kube
    post_event: EventPoster
    checker: ProgramChecker
    cache: ChildCache = field(default_factory=ChildCache)
    bodies: dict[PipelineKey, dict[str, Any]] = field(default_factory=dict)
    memory: dict[PipelineKey, PipelineMemory] = field(default_factory=dict)
    locks: dict[PipelineKey, asyncio.Lock] = field(default_factory=dict)
    full_reconciles: int = 0
    status_delay: float = 1.0  # child events within this window share one status computation...
    status_delay_max: float = 5.0  # ...which widens up to this while many refreshes wait (a burst)
    busy_refreshes: int = 200  # waiting refreshes at which the window is widest
    unserved_kinds: frozenset[str] = frozenset()  # optional child kinds the cluster did not serve at start
    max_concurrent_reconciles: int = 32  # bounds memory and apiserver load when 1,000 pipelines arrive at once
    _pending: set[PipelineKey] = field(default_factory=set)
    _slots: asyncio.Semaphore | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _timers: dict[PipelineKey, asyncio.Task[None]] = field(default_factory=dict)
    # (namespace, kind, name) -> pipelines whose last render has a child of that name (name conflicts)
    _claimants: dict[tuple[str, str, str], set[PipelineKey]] = field(default_factory=dict)
    analyze: Analyzer = field(default=no_analysis)
    clock: Callable[[], str] = field(default=now)  # the rollout's time (RFC 3339)

    # -- entry points (called by handlers) -------------------------------------------------

    async def pipeline_changed(self, body: dict[str, Any]) -> None:
        key = _key(body)
        body["metadata"].pop("managedFields", None)  # not needed here; a large part of each object
        self.bodies[key] = body
        memory = self.memory.setdefault(key, PipelineMemory())
        generation = int(body["metadata"].get("generation") or 0)
        if memory.reconciled_generation != generation:
            await self.reconcile(key)
        elif key in self._pending:
            return  # a status write for this generation is scheduled: it will read this body
        elif _observed_generation(memory.known_status(body)) != generation:
            await self.reconcile(key)  # the status write for this generation failed: try again
        else:
            await self.refresh_status(key)

    def pipeline_deleted(self, body: dict[str, Any]) -> None:
        key = _key(body)
        self.bodies.pop(key, None)
        memory = self.memory.pop(key, None)
        if memory is not None:
            self._claim(key, memory, frozenset())
        self.locks.pop(key, None)

    async def child_changed(self, obj: Mapping[str, Any], deleted: bool) -> None:
        """``obj`` may be the watch event's read-only view: only a summary of it is kept."""
        meta = obj.get("metadata", {})
        before = self.cache.owner(str(meta.get("namespace")), str(obj.get("kind")), str(meta.get("name")))
        key = self.cache.remove(obj) if deleted else self.cache.upsert(obj)
        if before is not None and before != key and before in self.bodies:
            await self.reconcile(before)  # another pipeline took it over: apply again, or stall on the conflict
        if key is None or key not in self.bodies:
            return
        if deleted:
            await self.reconcile(key)  # an owned object went away: put it back
        elif self._drifted(key, (str(obj.get("kind")), str(meta.get("name")))):
            await self.reconcile(key)  # someone changed a field the operator sets: put it back
        else:
            self.schedule_refresh(key)

    def _drifted(self, key: PipelineKey, child_key: ChildKey) -> bool:
        """Whether this event shows a child drifted (a drift already being put back counts once)."""
        memory = self.memory.get(key)
        child = self.cache.child(key, child_key)
        if memory is None or child is None or child_key in memory.drifted:
            return False
        baseline, drifted, reverting = judge(
            memory.baselines.get(child_key),
            child.applied_hash,
            child.owned_fields,
            child.writers,
            memory.reverting.pop(child_key, None),
        )
        if baseline is not None:
            memory.baselines[child_key] = baseline
        if reverting is not None:
            memory.reverting[child_key] = reverting
        if drifted:
            memory.drifted.add(child_key)
        return drifted

    def schedule_refresh(self, key: PipelineKey) -> None:
        """Coalesce a burst of child events (pods becoming ready one by one) into one status write."""
        if key in self._pending:
            return
        self._pending.add(key)

        window = refresh_window(len(self._pending), self.busy_refreshes, self.status_delay, self.status_delay_max)

        async def later() -> None:
            await asyncio.sleep(window)
            self._pending.discard(key)
            try:
                await self.refresh_status(key)
            except Exception:
                log.exception("status refresh of %s/%s failed", *key)

        task = asyncio.create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def snapshot(self) -> tuple[int, list[tuple[str, str, dict[str, Any]]]]:
        """For the metrics thread: pending refreshes and each pipeline's last written status."""
        for _ in range(3):  # the event loop may change the dict meanwhile: try again
            try:
                return len(self._pending), [
                    (k[0], k[1], m.known_status(self.bodies.get(k) or {})) for k, m in list(self.memory.items())
                ]
            except RuntimeError:
                continue
        return len(self._pending), []

    def stop(self) -> None:
        """Cancel the timers and background work (the operator is shutting down)."""
        for task in [*self._timers.values(), *self._tasks]:
            task.cancel()
        self._timers.clear()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("background reconcile failed")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def input_changed(self, kind: str, namespace: str, name: str) -> None:
        """A ConfigMap or Secret that some pipeline reads was created, changed or deleted."""
        for key, memory in list(self.memory.items()):
            if key[0] == namespace and (kind, name) in memory.references:
                await self.reconcile(key)

    async def retry_stalled(self) -> None:
        """Reconcile again every pipeline that waits on a missing input or whose writes failed (a timer)."""
        for key, memory in list(self.memory.items()):
            if memory.stalled or memory.apply_error is not None:
                await self.reconcile(key)

    # -- the work ----------------------------------------------------------------------------

    async def reconcile(self, key: PipelineKey) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent_reconciles)
        async with self._slots, self.locks.setdefault(key, asyncio.Lock()):
            body = self.bodies.get(key)
            if body is None:
                return
            self.full_reconciles += 1
            started = time.perf_counter()
            try:
                await self._reconcile(key, body)
            finally:
                metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)

    async def _reconcile(self, key: PipelineKey, body: dict[str, Any]) -> None:
        """Inputs, render, apply, status: under the pipeline's lock (see :meth:`reconcile`)."""
        memory = self.memory.setdefault(key, PipelineMemory())
        generation = int(body["metadata"].get("generation") or 0)
        previous = memory.known_status(body)
        slow = needs_inputs(body)  # reading inputs or checking programs takes a while: say so first
        if slow and previous.get("observedGeneration") != generation and memory.reconciled_generation != generation:
            patch = first_visit(previous, generation, now())
            await self.kube.patch_status(key[0], key[1], patch)
            memory.wrote_status({**previous, **patch}, before=previous)
        inputs = await resolve_inputs(body, self.kube, self.checker)
        memory.references = inputs.references
        memory.pipeline = pipeline_input(body, inputs)
        ready = self._ready(key, memory.pipeline) if memory.pipeline is not None else {}
        desired: Desired = build_desired(body, inputs, ready, memory.decision)
        memory.rendered = render_inputs(memory.decision)
        if memory.pipeline is not None and not desired.problems:
            desired = desired.with_problems(unserved_kinds(desired.objects, self.unserved_kinds))
        self._claim(key, memory, frozenset(map(key_of, desired.objects)))
        if memory.pipeline is not None and not desired.problems:
            held = self._held_elsewhere(key, desired.objects)
            desired = desired.with_problems(name_conflicts(key[1], desired.objects, held))
        if memory.pipeline is not None:
            memory.mirror_rendered = traffic.mirror_active(memory.pipeline, ready)
        memory.problems = list(desired.problems)
        memory.template_hashes = desired.template_hashes()  # empty with problems: status renders
        if desired.problems:
            memory.stalled = True
        elif memory.decision is not None and memory.decision.hold:
            memory.stalled = False  # the rollout holds every child as it is (its stall says why)
        else:
            memory.stalled = False
            memory.desired_hashes = desired.hashes()
            children = self.cache.children(key)
            changes = plan(desired.objects, children, force=frozenset(memory.drifted))
            try:
                await self._evict_squatters(key, desired.objects)
                await self._write_children(changes)
            except Exception as exc:  # an API error must not leave the pipeline unattended
                metrics.RECONCILE_ERRORS.inc()
                memory.failures += 1
                memory.apply_error = f"{type(exc).__name__}: {exc or 'no answer from the apiserver in time'}"[:500]
                log.warning("apply for %s/%s failed (attempt %d): %s", *key, memory.failures, memory.apply_error)
                await self._write_status(key, body)
                return
            memory.apply_error = None
            memory.failures = 0
            reverted = sorted(memory.drifted & {key_of(obj) for obj in changes.to_apply})
            memory.drifted.clear()
            if reverted:
                await self._event(body, "Warning", "DriftReverted", drift_message(reverted, children))
            if changes.to_apply or changes.to_delete:
                await self._event(body, "Normal", "ChildrenApplied", changes.summary())
            for variant, program_hash in desired.program_hashes.items():
                before = memory.program_hashes.get(variant)
                if before and before != program_hash:
                    await self._event(
                        body,
                        "Normal",
                        "ProgramsChanged",
                        f"variant {variant}: programs {before[:12]} -> {program_hash[:12]}, rolling update started",
                    )
            memory.program_hashes = dict(desired.program_hashes)
        memory.reconciled_generation = generation
        if memory.stalled or not self._pending_children(key, memory):
            await self._write_status(key, body)
        else:  # the watch shows the new children within moments: one status write covers both
            self.schedule_refresh(key)
        if render_inputs(memory.decision) != memory.rendered:  # the rollout moved on: render for it
            self._spawn(self.reconcile(key))

    async def _write_children(self, changes: ApplyPlan) -> None:
        """ConfigMaps, ServiceAccounts and Roles first (pods mount or run as them), then every other
        write at once; the first error is raised."""
        first = [obj for obj in changes.to_apply if obj["kind"] in FIRST_KINDS]
        rest = [obj for obj in changes.to_apply if obj["kind"] not in FIRST_KINDS]
        deletes = [(c.api_version, c.kind, c.namespace, c.name) for c in changes.to_delete]
        for batch in (
            [self.kube.apply(obj) for obj in first],
            [self.kube.apply(obj) for obj in rest] + [self.kube.delete(*d) for d in deletes],
        ):
            results = await asyncio.gather(*batch, return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]

    async def refresh_status(self, key: PipelineKey) -> None:
        async with self.locks.setdefault(key, asyncio.Lock()):
            body = self.bodies.get(key)
            memory = self.memory.get(key)
            if body is None or memory is None or memory.reconciled_generation is None:
                return
            await self._write_status(key, body)
            pipeline = memory.pipeline
            rerender = pipeline is not None and (
                (
                    traffic.provider_for(pipeline).name == "gatewayAPI"
                    and traffic.mirror_active(pipeline, self._ready(key, pipeline)) != memory.mirror_rendered
                )
                or render_inputs(memory.decision) != memory.rendered
            )
        if rerender:  # a mirror variant's readiness or a rollout decision changes what is rendered
            await self.reconcile(key)

    async def _write_status(self, key: PipelineKey, body: dict[str, Any]) -> None:
        memory = self.memory[key]
        previous = memory.known_status(body)
        pipeline = memory.pipeline
        if pipeline is None:
            status = invalid_spec_status(memory.reconciled_generation or 0, memory.problems, previous, now())
        else:
            deployments = self._deployments(key, pipeline)
            decision = None if memory.problems else await self._decide(key, memory, pipeline, previous, deployments)
            ready = {name: d.ready for name, d in deployments.items()}
            flow = (
                None
                if memory.problems
                else self._traffic(key, pipeline, previous.get("traffic") or {}, ready, decision)
            )
            # Status holds the Deployments to what was rendered: a rollout may have scaled the
            # candidate or given stable the candidate's programs (not what the spec declares).
            shown = rollout_plan.apply_decision(pipeline, *memory.rendered[:2]) if memory.rendered else pipeline
            status = compute_status(
                shown,
                deployments,
                memory.problems,
                previous,
                now(),
                pending=self._pending_children(key, memory),
                apply_error=memory.apply_error,
                template_hashes=memory.template_hashes,
                traffic=flow[0] if flow else None,
                traffic_waiting=flow[1].waiting if flow else None,
                traffic_rejected=flow[1].rejected if flow else None,
                rollout=decision.state.to_status() if decision is not None and _rolls(pipeline) else None,
                rollout_stalled=decision.stall if decision is not None else None,
                rollout_progressing=_progressing(decision),
            )
        if status_patch_needed(previous, status):
            await self.kube.patch_status(key[0], key[1], status)
            memory.wrote_status({**previous, **status}, before=previous)
            for event_type, reason, message in transition_events(previous, status):
                await self._event(body, event_type, reason, message)
        if pipeline is not None and not memory.problems:
            if decision is not None:
                for event_type, reason, message in decision.events:
                    await self._event(body, event_type, reason, message)
            memory.decision = decision
            self._requeue(key, decision.requeue_after if decision is not None else None)

    async def _decide(
        self,
        key: PipelineKey,
        memory: PipelineMemory,
        pipeline: PipelineInput,
        previous: Mapping[str, Any],
        deployments: Mapping[str, DeploymentState],
    ) -> Decision | None:
        """The rollout's next decision (measuring first when it asks for a measurement)."""
        stable_from_candidate = memory.rendered[0] if memory.rendered else False
        observed = rollout_plan.observe(pipeline, deployments, memory.template_hashes, bool(stable_from_candidate))
        if observed is None:
            return None
        strategy = pipeline.spec.strategy_settings()
        state = from_status(previous.get("rollout"))
        at = self.clock()
        decision = next_action(strategy, state, observed, at)
        if decision.measure:
            settings = current_analysis(strategy, decision.state)
            judged = await self.analyze(settings, key[0], key[1], observed.stable, observed.candidate)
            metrics.ANALYSES.labels(key[0], key[1], judged.verdict).inc()
            decision = next_action(strategy, state, observed, at, judged)
        return decision

    def _requeue(self, key: PipelineKey, after: float | None) -> None:
        """Visit the pipeline again in ``after`` seconds (a pause ends, an analysis is due); one timer each."""
        old = self._timers.pop(key, None)
        if old is not None and not old.done():
            old.cancel()
        if after is None:
            return

        async def later() -> None:
            await asyncio.sleep(after)
            self._timers.pop(key, None)
            try:
                await self.refresh_status(key)
            except Exception:
                log.exception("rollout visit of %s/%s failed", *key)

        task = asyncio.create_task(later())
        self._timers[key] = task

    def _deployments(self, key: PipelineKey, pipeline: PipelineInput) -> dict[str, DeploymentState]:
        """Variant name -> the summary of its Deployment, from the informer cache."""
        children = self.cache.children(key)
        out: dict[str, DeploymentState] = {}
        for variant in pipeline.spec.variants:
            child = children.get(("Deployment", child_name(pipeline.name, variant.name)))
            if child is not None and child.deployment is not None:
                out[variant.name] = child.deployment
        return out

    def _senior(self, other: PipelineKey | None, key: PipelineKey) -> bool:
        return other in self.bodies and other != key and _seniority(self.bodies[other]) < _seniority(self.bodies[key])

    def _claim(self, key: PipelineKey, memory: PipelineMemory, claims: frozenset[ChildKey]) -> None:
        """Record the children ``key`` renders now, in its memory and in the index by name."""
        for kind, name in memory.claims - claims:
            holders = self._claimants.get((key[0], kind, name))
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del self._claimants[(key[0], kind, name)]
        for kind, name in claims - memory.claims:
            self._claimants.setdefault((key[0], kind, name), set()).add(key)
        memory.claims = claims

    def _held_elsewhere(self, key: PipelineKey, objects: list[dict[str, Any]]) -> dict[ChildKey, str]:
        """(kind, name) -> an older pipeline of this namespace that holds or renders a child of that name."""
        out: dict[ChildKey, str] = {}
        for child in map(key_of, objects):
            claimants = {self.cache.owner(key[0], *child), *self._claimants.get((key[0], *child), ())}
            seniors = sorted(
                (_seniority(self.bodies[o]), o[1]) for o in claimants if o is not None and self._senior(o, key)
            )
            if seniors:
                out[child] = seniors[0][1]
        return out

    async def _evict_squatters(self, key: PipelineKey, objects: list[dict[str, Any]]) -> None:
        """Delete children of younger pipelines that hold names this one renders (they stall on the
        conflict): applying over them would fail on immutable fields (a Deployment's selector)."""
        for kind, name in map(key_of, objects):
            other = self.cache.owner(key[0], kind, name)
            if other is not None and other in self.bodies and self._senior(key, other):
                log.info(
                    "deleting %s %s/%s of younger pipeline %s: %s needs the name", kind, key[0], name, other[1], key[1]
                )
                await self.kube.delete(by_kind(kind).api_version, kind, key[0], name)

    def _ready(self, key: PipelineKey, pipeline: PipelineInput) -> dict[str, int]:
        """Variant name -> ready pods, from the cache."""
        return {name: d.ready for name, d in self._deployments(key, pipeline).items()}

    def _traffic(
        self,
        key: PipelineKey,
        pipeline: PipelineInput,
        previous: Mapping[str, Any],
        ready: Mapping[str, int],
        decision: Decision | None,
    ) -> tuple[dict[str, Any], TrafficVerdict]:
        """``status.traffic`` and the provider's verdict, from the cache (``ready``: variant -> ready pods)."""
        children = self.cache.children(key)
        name = router_name(pipeline.name)
        router, lease, route = (
            children.get(("Deployment", name)),
            children.get(("Lease", name)),
            children.get(("HTTPRoute", pipeline.name)),
        )
        observed = TrafficObserved(
            router=router.deployment if router else None,
            lease=lease.lease if lease else None,
            route=route.route if route else None,
        )
        provider = traffic.provider_for(pipeline)
        weights = traffic.effective_weights(pipeline, ready, decision)
        before = (previous.get("confirmedWeights"), previous.get("confirmedTime"))
        confirmed = provider.confirmed(weights, observed, before, now())
        mirror = pipeline.spec.traffic_settings().mirror
        flow = traffic_status(provider.name, weights, mirror, ready, confirmed)
        return flow, provider.verdict(pipeline, observed)

    def _pending_children(self, key: PipelineKey, memory: PipelineMemory) -> list[str]:
        """Children whose applied content the watch has not shown yet (``Kind/name``)."""
        if memory.problems:
            return []
        children = self.cache.children(key)
        return [
            f"{kind}/{name}"
            for (kind, name), digest in sorted(memory.desired_hashes.items())
            if (child := children.get((kind, name))) is None or child.applied_hash != digest
        ]

    async def _event(self, body: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        try:
            await self.post_event(body, event_type, reason, message)
        except Exception:  # events are best effort: never fail a reconcile on them
            log.exception("could not post event %s", reason)


def _rolls(pipeline: PipelineInput) -> bool:
    return pipeline.spec.strategy_settings().type != "RollingUpdate"


def _progressing(decision: Decision | None) -> tuple[str, str] | None:
    """Reconciling while a rollout walks its steps or promotes (a pause until promoted is not work)."""
    if decision is None or decision.stall is not None or decision.state.phase not in ("Progressing", "Promoting"):
        return None
    phase = decision.state.phase
    return ("RolloutProgressing" if phase == "Progressing" else "Promoting", decision.state.message or phase)


def drift_message(reverted: list[ChildKey], children: Mapping[ChildKey, Child]) -> str:
    """Which children were put back, and who else wrote them (their managedFields)."""
    writers = sorted({w for k in reverted if (c := children.get(k)) is not None for w in c.writers})
    names = ", ".join(f"{kind}/{name}" for kind, name in reverted)
    by = f" (also written by {', '.join(writers)})" if writers else ""
    return f"put back fields the operator sets that someone else changed in {names}{by}"[:1000]


def unserved_kinds(objects: list[dict[str, Any]], unserved: frozenset[str]) -> list[Problem]:
    """A child of a kind whose CRD the cluster did not serve when the operator started (the Gateway
    API's HTTPRoute): the operator could neither apply nor watch it, so the pipeline stalls."""
    missing = sorted({str(o["kind"]) for o in objects} & unserved)
    return [
        Problem(
            "GatewayAPINotInstalled" if kind == "HTTPRoute" else f"{kind}NotServed",
            f"spec.traffic.provider needs {kind} ({by_kind(kind).api_version}), which this cluster did not serve "
            "when the operator started: install its CRDs (for the Gateway API, the standard channel) and restart "
            "the operator, or choose another spec.traffic.provider",
        )
        for kind in missing
    ]


def refresh_window(waiting: int, busy: int, shortest: float, longest: float) -> float:
    """How long child events are gathered before one status write: ``shortest`` when idle, growing
    with the number of ``waiting`` refreshes to ``longest`` at ``busy``, so that during a burst the
    apiserver's time goes to children rather than to intermediate status (the way the
    EndpointSlice controller batches its updates)."""
    load = min(1.0, waiting / busy) if busy > 0 else 1.0
    return shortest + (longest - shortest) * load


def _seniority(body: Mapping[str, Any]) -> tuple[str, str]:
    """The older pipeline keeps names two pipelines both derive (RFC 3339 times sort as text)."""
    meta = body.get("metadata", {})
    return (str(meta.get("creationTimestamp") or ""), str(meta.get("name")))


def _key(body: dict[str, Any]) -> PipelineKey:
    return (str(body["metadata"]["namespace"]), str(body["metadata"]["name"]))


def _observed_generation(status: Mapping[str, Any]) -> int | None:
    value = status.get("observedGeneration")
    return int(value) if isinstance(value, int) else None
