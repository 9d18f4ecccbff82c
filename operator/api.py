"""The EvolvedPipeline API: pydantic models that are the CRD's single source of truth.

Field descriptions become the CRD's descriptions and ``docs/api.md``. Cross-field rules are
:class:`Rule` objects: each is emitted as a CEL rule (``x-kubernetes-validations``) for the
apiserver and checked by the models with the same message, so a bad spec gets one wording at
``kubectl apply`` and in the operator. Shared building blocks are in ``api_base``, the traffic
models in ``api_traffic``. Later capabilities (canary analysis, caching, limits, budgets, auth)
slot in as new optional fields of :class:`EvolvedPipelineSpec`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from lightkube.utils.quantity import parse_quantity
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from evolved_operator.api_base import (
    DATA_KEY,
    DNS_1035_LABEL,
    DNS_LABEL,
    DNS_SUBDOMAIN,
    ENV_NAME,
    IMAGE_REFERENCE,
    INT_OR_STRING,
    LABEL_VALUE,
    QUANTITY,
    REPOSITORY,
    RESERVED_ANNOTATION_PREFIX,
    RESERVED_ENV_PREFIX,
    RESERVED_LABELS,
    TAG,
    ApiModel,
    PullSecretName,
    Rule,
    Str4k,
    Str63,
    _cel_list,
    _is_zero,
    _keys_rule,
    _one_of,
    _valid_int_or_percent,
)
from evolved_operator.api_llm import LLM, REDIS_RULES, Auth, Budgets, Cache, Limits
from evolved_operator.api_strategy import RolloutStatus, Strategy
from evolved_operator.api_traffic import Traffic, TrafficStatus
from evolved_runtime.config import MIN_SOLVER_MEMORY_MB, SOLVER_MEMORY_DESCRIPTION

COMPONENTS = ("router", "translation", "profiles")
ROUTER_NAME = "router"
DEFAULT_REPOSITORY = "evolved-pipelines/runtime"
DEFAULT_TAG = "0.1.0"


# -- programs -------------------------------------------------------------------------------


class ConfigMapKeyRef(ApiModel):
    """A program stored under a key of a ConfigMap in the pipeline's namespace."""

    name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN, description="ConfigMap name.")
    key: str = Field(max_length=253, pattern=DATA_KEY, description="Key holding the program's source.")
    sha256: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-f0-9]{64}$",
        description="Optional pin: the sha256 (hex) of the source. A mismatch stalls the pipeline "
        "(reason `ProgramDigestMismatch`) instead of rolling out unexpected code.",
    )


class ProgramSource(ApiModel):
    """Where one evolved program comes from: exactly one of inline, configMapKeyRef or path."""

    cel_rules = (
        Rule(
            "[has(self.inline), has(self.configMapKeyRef), has(self.path)].filter(x, x).size() == 1",
            "set exactly one of inline, configMapKeyRef or path",
            lambda s: _one_of(s.inline, s.config_map_key_ref, s.path),
        ),
    )

    inline: str | None = Field(
        default=None,
        max_length=262144,
        description="The program's Python source, inline. Mounted as `/etc/evolved/programs/<component>.py`.",
    )
    config_map_key_ref: ConfigMapKeyRef | None = Field(
        default=None,
        description="The program from a ConfigMap key, copied into the variant's ConfigMap; "
        "a change of that key rolls the variant.",
    )
    path: str | None = Field(
        default=None,
        max_length=1024,
        pattern=r"^/[-._/a-zA-Z0-9]*\.py$",
        description="Absolute path of a program baked into a custom image (a `.py` file); passed to the runtime as is.",
    )


class Programs(ApiModel):
    """The variant's evolved programs; a component left out uses the default shipped in the image."""

    router: ProgramSource | None = Field(default=None, description="`route(prompt, context) -> RoutingDecision`.")
    translation: ProgramSource | None = Field(
        default=None, description="`translate(prompt, level, hints, llm) -> SymIL | None`."
    )
    profiles: ProgramSource | None = Field(default=None, description="`get_profile(name)`, `list_profiles()`.")

    def sources(self) -> dict[str, ProgramSource]:
        """Component -> source, for the components that are set, in component order."""
        return {c: s for c in COMPONENTS if (s := getattr(self, c)) is not None}


# -- pods -------------------------------------------------------------------------------------


class ResourceList(ApiModel):
    """CPU and memory quantities."""

    cpu: str | None = Field(default=None, max_length=64, pattern=QUANTITY, description="CPU quantity, e.g. `500m`.")
    memory: str | None = Field(
        default=None, max_length=64, pattern=QUANTITY, description="Memory quantity, e.g. `512Mi`."
    )

    @field_validator("cpu", "memory")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None:
            parse_quantity(value)  # ValueError: "Invalid quantity string: ..."
        return value


def _request_within_limit(resources: Resources, name: str) -> bool:
    request = getattr(resources.requests, name, None) if resources.requests else None
    limit = getattr(resources.limits, name, None) if resources.limits else None
    if request is None or limit is None:
        return True
    low, high = parse_quantity(request), parse_quantity(limit)
    return low is None or high is None or low <= high


def _quantity_rule(name: str) -> Rule:
    return Rule(
        f"!has(self.requests) || !has(self.limits) || !has(self.requests.{name}) || !has(self.limits.{name}) "
        f"|| quantity(self.requests.{name}).compareTo(quantity(self.limits.{name})) <= 0",
        f"resources.requests.{name} must not exceed resources.limits.{name}",
        lambda r: _request_within_limit(r, name),
    )


class Resources(ApiModel):
    """Container resources of the variant's worker pods."""

    cel_rules = (_quantity_rule("cpu"), _quantity_rule("memory"))

    requests: ResourceList | None = Field(
        default=None, description="Requested resources (the HPA's CPU target is relative to the CPU request)."
    )
    limits: ResourceList | None = Field(default=None, description="Resource limits.")


class EnvVar(ApiModel):
    """An environment variable of the worker container."""

    name: str = Field(
        max_length=256,
        pattern=ENV_NAME,
        description=f"Variable name. Names starting with `{RESERVED_ENV_PREFIX}` are set by the operator.",
    )
    value: str = Field(default="", max_length=32768, description="Variable value (use Secrets for secrets: see `llm`).")


class Autoscaling(ApiModel):
    """A HorizontalPodAutoscaler (autoscaling/v2) for this variant alone."""

    cel_rules = (
        Rule(
            "self.minReplicas <= self.maxReplicas",
            "minReplicas must not exceed maxReplicas",
            lambda a: a.min_replicas <= a.max_replicas,
        ),
    )

    min_replicas: int = Field(default=1, ge=1, le=1000, description="Fewest replicas.")
    max_replicas: int = Field(ge=1, le=1000, description="Most replicas.")
    target_cpu_utilization_percentage: int | None = Field(
        default=None,
        alias="targetCPUUtilizationPercentage",
        ge=1,
        le=100,
        description="Average CPU utilization to keep, in percent of the CPU request (default 80).",
    )


class Variant(ApiModel):
    """One variant of the pipeline: a set of programs served by its own Deployment."""

    cel_rules = (
        Rule(
            f"self.name != '{ROUTER_NAME}'",
            f"variant name {ROUTER_NAME} is reserved: the pipeline's router objects are named <pipeline>-{ROUTER_NAME}",
            lambda v: v.name != ROUTER_NAME,
        ),
        Rule(
            "!(has(self.replicas) && has(self.autoscaling))",
            "set replicas or autoscaling, not both",
            lambda v: v.replicas is None or v.autoscaling is None,
        ),
        Rule(
            "!has(self.env) || self.env.all(e, self.env.exists_one(f, f.name == e.name))",
            "env names must be unique",
            lambda v: len({e.name for e in v.env}) == len(v.env),
        ),
        Rule(
            f"!has(self.env) || self.env.all(e, !e.name.startsWith('{RESERVED_ENV_PREFIX}'))",
            f"env names starting with {RESERVED_ENV_PREFIX} are reserved for the operator",
            lambda v: not any(e.name.startswith(RESERVED_ENV_PREFIX) for e in v.env),
        ),
    )

    name: str = Field(
        max_length=40,
        pattern=DNS_LABEL,
        description="Variant name, a DNS label, unique in the pipeline. Children are named `<pipeline>-<variant>`.",
    )
    role: Literal["stable", "candidate"] = Field(
        default="stable",
        description="`stable` serves production; `candidate` is the variant under test. Shown in "
        "`status.stable` / `status.candidate` and as the label `pipelines.evolved.io/role` of the variant's "
        "objects (not of its pods, so a change of role restarts nothing).",
    )
    programs: Programs = Field(default_factory=Programs, description="The variant's evolved programs.")
    replicas: int | None = Field(
        default=None, ge=0, le=1000, description="Fixed replica count (default 1) when autoscaling is unset."
    )
    autoscaling: Autoscaling | None = Field(
        default=None, description="Scale this variant with its own HPA (the Deployment then has no replica count)."
    )
    resources: Resources | None = Field(default=None, description="Container resources.")
    env: list[EnvVar] = Field(default_factory=list, max_length=64, description="Extra environment variables.")
    weight: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Percent of requests this variant serves. Set on every variant (summing to 100) or on none "
        "(then the stable variant serves 100). Not with traffic provider `service`.",
    )

    def desired_replicas(self) -> int:
        """Replicas the variant should have before any autoscaling decision."""
        if self.autoscaling is not None:
            return self.autoscaling.min_replicas
        return 1 if self.replicas is None else self.replicas

    def most_replicas(self) -> int:
        """The most pods the variant can have (its autoscaling maximum, else its fixed count)."""
        if self.autoscaling is not None:
            return self.autoscaling.max_replicas
        return self.desired_replicas()


# -- pipeline-wide settings -----------------------------------------------------------------------


class Image(ApiModel):
    """The shared runtime image every worker runs: `reference`, or `repository` and `tag`."""

    cel_rules = (
        Rule(
            "!(has(self.reference) && (has(self.repository) || has(self.tag)))",
            "set reference, or repository and tag, not both",
            lambda i: i.reference is None or (i.repository is None and i.tag is None),
        ),
    )

    repository: str | None = Field(
        default=None,
        max_length=512,
        pattern=REPOSITORY,
        description=f"Image repository (default `{DEFAULT_REPOSITORY}`).",
    )
    tag: str | None = Field(
        default=None,
        max_length=128,
        pattern=TAG,
        description=f"Image tag, or a digest `sha256:<hex>` (default `{DEFAULT_TAG}`).",
    )
    reference: str | None = Field(
        default=None,
        max_length=768,
        pattern=IMAGE_REFERENCE,
        description="The full image reference, e.g. `registry.local/evolved/runtime:1.2@sha256:<hex>`, "
        "instead of repository and tag.",
    )
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy."
    )
    pull_secrets: list[PullSecretName] = Field(
        default_factory=list, max_length=16, description="Names of image pull Secrets in the pipeline's namespace."
    )

    def full_reference(self) -> str:
        """The image as the container spec names it."""
        if self.reference is not None:
            return self.reference
        tag = self.tag or DEFAULT_TAG
        separator = "@" if tag.startswith("sha256:") else ":"
        return f"{self.repository or DEFAULT_REPOSITORY}{separator}{tag}"


class RollingUpdate(ApiModel):
    """How a variant's Deployment replaces pods when its programs or settings change."""

    cel_rules = (
        Rule(
            "type(self.maxSurge) == int ? self.maxSurge >= 0 : string(self.maxSurge).matches('^[0-9]+%$')",
            "maxSurge must be a non-negative number or a percentage like 25%",
            lambda r: _valid_int_or_percent(r.max_surge),
        ),
        Rule(
            "type(self.maxUnavailable) == int ? self.maxUnavailable >= 0 "
            ": string(self.maxUnavailable).matches('^[0-9]+%$')",
            "maxUnavailable must be a non-negative number or a percentage like 25%",
            lambda r: _valid_int_or_percent(r.max_unavailable),
        ),
        Rule(
            "!(string(self.maxSurge) in ['0', '0%'] && string(self.maxUnavailable) in ['0', '0%'])",
            "maxSurge and maxUnavailable must not both be zero",
            lambda r: not (_is_zero(r.max_surge) and _is_zero(r.max_unavailable)),
        ),
    )

    max_surge: int | str = Field(
        default="25%",
        json_schema_extra=INT_OR_STRING,
        description="Extra pods during an update (number or percent).",
    )
    max_unavailable: int | str = Field(
        default=0,
        json_schema_extra=INT_OR_STRING,
        description="Pods that may be unavailable during an update (number or percent).",
    )


class Solver(ApiModel):
    """Limits of each solver call (Z3, Clingo) inside the workers."""

    timeout_ms: int = Field(default=2000, ge=10, le=600000, description="Wall-clock limit per call, in ms.")
    memory_mb: int = Field(
        default=512,
        ge=MIN_SOLVER_MEMORY_MB,
        le=65536,
        alias="memoryMB",
        description=SOLVER_MEMORY_DESCRIPTION,
    )
    pool_size: int = Field(default=2, ge=1, le=64, description="Solver processes per worker.")


class Toleration(ApiModel):
    """A Kubernetes toleration, passed to the pods."""

    cel_rules = (
        Rule(
            "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
            "a toleration with operator Exists must not have a value",
            lambda t: t.operator != "Exists" or not t.value,
        ),
        Rule(
            "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
            "a toleration without a key must have operator Exists",
            lambda t: bool(t.key) or t.operator == "Exists",
        ),
    )

    key: str | None = Field(default=None, max_length=316, description="Taint key to tolerate (empty: all).")
    operator: Literal["Exists", "Equal"] | None = Field(default=None, description="`Exists` or `Equal` (default).")
    value: str | None = Field(
        default=None, max_length=63, pattern=LABEL_VALUE, description="Taint value, with `Equal`."
    )
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect (empty: all)."
    )
    toleration_seconds: int | None = Field(
        default=None, ge=0, le=31536000, description="How long a `NoExecute` taint is tolerated."
    )


class PodOverrides(ApiModel):
    """Scheduling and metadata for every worker pod of the pipeline."""

    cel_rules = (
        Rule(
            "!has(self.labels) || " + _cel_list(RESERVED_LABELS) + ".all(k, !(k in self.labels))",
            "pod.labels must not set the labels the operator sets: " + ", ".join(RESERVED_LABELS),
            lambda p: not set(p.labels) & set(RESERVED_LABELS),
        ),
        Rule(
            f"!has(self.annotations) || self.annotations.all(k, !k.startsWith('{RESERVED_ANNOTATION_PREFIX}'))",
            f"pod.annotations must not use the operator's prefix {RESERVED_ANNOTATION_PREFIX}",
            lambda p: not any(k.startswith(RESERVED_ANNOTATION_PREFIX) for k in p.annotations),
        ),
        *(
            _keys_rule(wire, name)
            for wire, name in (("nodeSelector", "node_selector"), ("labels", "labels"), ("annotations", "annotations"))
        ),
    )

    node_selector: dict[str, Str63] = Field(
        default_factory=dict, max_length=32, description="Node labels the pods require."
    )
    tolerations: list[Toleration] = Field(default_factory=list, max_length=32, description="Tolerations.")
    affinity: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True, "type": "object"},
        description="A Kubernetes `Affinity`, passed to the pods as written.",
    )
    labels: dict[str, Str63] = Field(
        default_factory=dict, max_length=32, description="Extra pod labels (not the ones the operator sets)."
    )
    annotations: dict[str, Str4k] = Field(
        default_factory=dict,
        max_length=32,
        description=f"Extra pod annotations (not under `{RESERVED_ANNOTATION_PREFIX}`).",
    )
    service_account_name: str | None = Field(
        default=None, max_length=253, pattern=DNS_SUBDOMAIN, description="ServiceAccount of the pods."
    )


class EvolvedPipelineSpec(ApiModel):
    """The desired state of an evolved pipeline."""

    cel_rules = (
        Rule(
            "self.variants.all(a, self.variants.exists_one(b, b.name == a.name))",
            "variant names must be unique",
            lambda s: len({v.name for v in s.variants}) == len(s.variants),
        ),
        Rule(
            "self.variants.exists_one(v, v.role == 'stable')",
            "exactly one variant must have role stable",
            lambda s: sum(v.role == "stable" for v in s.variants) == 1,
        ),
        Rule(
            "self.variants.all(v, has(v.weight)) || self.variants.all(v, !has(v.weight))",
            "set weight on every variant or on none",
            lambda s: len({v.weight is None for v in s.variants}) == 1,
        ),
        Rule(
            "!self.variants.all(v, has(v.weight)) || self.variants.map(v, v.weight).sum() == 100",
            "variant weights must sum to 100",
            lambda s: any(v.weight is None for v in s.variants) or sum(v.weight or 0 for v in s.variants) == 100,
        ),
        Rule(
            "!has(self.traffic) || self.traffic.provider != 'service' || self.variants.all(v, !has(v.weight))",
            "provider service splits by ready replicas: remove the variant weights or use provider router",
            lambda s: s.traffic is None or s.traffic.provider != "service" or all(v.weight is None for v in s.variants),
        ),
        Rule(
            "!has(self.traffic) || !has(self.traffic.mirror) "
            "|| self.variants.exists(v, v.name == self.traffic.mirror.variant)",
            "traffic.mirror.variant must name a variant of the pipeline",
            lambda s: (
                s.traffic is None
                or s.traffic.mirror is None
                or any(v.name == s.traffic.mirror.variant for v in s.variants)
            ),
        ),
        Rule(
            "!has(self.strategy) || self.strategy.type == 'RollingUpdate' "
            "|| self.variants.exists_one(v, v.role == 'candidate')",
            "strategy types Canary and ABTest need exactly one variant with role candidate",
            lambda s: (
                s.strategy is None
                or s.strategy.type == "RollingUpdate"
                or sum(v.role == "candidate" for v in s.variants) == 1
            ),
        ),
        Rule(
            "!has(self.strategy) || self.strategy.type == 'RollingUpdate' "
            "|| !has(self.traffic) || self.traffic.provider != 'service'",
            "strategy types Canary and ABTest move weights: use traffic provider router or gatewayAPI, not service",
            lambda s: (
                s.strategy is None
                or s.strategy.type == "RollingUpdate"
                or s.traffic is None
                or s.traffic.provider != "service"
            ),
        ),
        *REDIS_RULES,
    )

    image: Image = Field(default_factory=Image, description="The shared runtime image.")
    variants: list[Variant] = Field(
        min_length=1, max_length=8, description="The variants (at most 8); exactly one has role `stable`."
    )
    rolling_update: RollingUpdate = Field(
        default_factory=RollingUpdate, description="Rolling update of each variant's Deployment."
    )
    llm: LLM | None = Field(
        default=None,
        description="The LLM provider(s); unset: no LLM (questions the solvers cannot take get HTTP 503).",
    )
    cache: Cache | None = Field(default=None, description="The answer cache; unset: no cache.")
    limits: Limits | None = Field(default=None, description="Per-caller rate limits; unset: none.")
    budgets: Budgets | None = Field(default=None, description="Spending limits in USD; unset: none.")
    auth: Auth | None = Field(default=None, description="Inbound API keys; unset: no auth.")
    solver: Solver = Field(default_factory=Solver, description="Solver limits.")
    pod: PodOverrides = Field(default_factory=PodOverrides, description="Pod scheduling and metadata overrides.")
    traffic: Traffic | None = Field(
        default=None, description="How requests are split between the variants (unset: provider `router`)."
    )
    strategy: Strategy | None = Field(
        default=None, description="How a candidate's new programs are rolled out (unset: `RollingUpdate`)."
    )

    def stable(self) -> Variant:
        return next(v for v in self.variants if v.role == "stable")

    def candidates(self) -> list[Variant]:
        return [v for v in self.variants if v.role == "candidate"]

    def strategy_settings(self) -> Strategy:
        """``spec.strategy``, or its defaults (RollingUpdate) when unset."""
        return self.strategy if self.strategy is not None else Strategy()

    def traffic_settings(self) -> Traffic:
        """``spec.traffic``, or its defaults (provider router) when unset."""
        return self.traffic if self.traffic is not None else Traffic()


# -- status -------------------------------------------------------------------------------------------


class Condition(ApiModel):
    """A standard Kubernetes condition (metav1.Condition)."""

    type: str = Field(max_length=316, description="`Ready`, `Reconciling` or `Stalled`.")
    status: Literal["True", "False", "Unknown"] = Field(description="The condition's state.")
    reason: str = Field(max_length=1024, description="Why, in CamelCase (e.g. `ConfigMapNotFound`).")
    message: str = Field(default="", max_length=32768, description="Details for people, naming the field at fault.")
    observed_generation: int | None = Field(default=None, ge=0, description="The generation this condition describes.")
    last_transition_time: str = Field(description="When the status last changed (RFC 3339).")


class VariantStatus(ApiModel):
    """Observed state of one variant's Deployment."""

    name: str = Field(description="Variant name.")
    role: str = Field(description="`stable` or `candidate`.")
    replicas: int = Field(default=0, description="Pods of the variant.")
    ready_replicas: int = Field(default=0, description="Pods that are ready.")
    updated_replicas: int = Field(default=0, description="Pods that run the current programs and settings.")
    program_hash: str = Field(default="", description="Hash of the programs the Deployment runs.")
    image: str = Field(default="", description="The runtime image the Deployment runs.")


class EvolvedPipelineStatus(ApiModel):
    """Observed state, written by the operator only."""

    observed_generation: int | None = Field(default=None, description="The `metadata.generation` last handled.")
    conditions: list[Condition] = Field(
        default_factory=list, description="`Ready`, `Reconciling` and `Stalled` (kstatus)."
    )
    variants: list[VariantStatus] = Field(
        default_factory=list, description="Per-variant replicas, program hash and image."
    )
    stable: str | None = Field(default=None, description="Name of the stable variant.")
    candidate: str | None = Field(default=None, description="Name(s) of candidate variants, comma-separated.")
    traffic: TrafficStatus | None = Field(default=None, description="The effective traffic split.")
    rollout: RolloutStatus | None = Field(default=None, description="The rollout of the candidate (Canary, ABTest).")


# -- the resource -------------------------------------------------------------------------------------


class ObjectMeta(BaseModel):
    """The parts of `metadata` the operator reads; the rest is kept by the apiserver."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: str = Field(description="The pipeline's name.")
    namespace: str = Field(default="", description="The pipeline's namespace.")
    uid: str = Field(default="", description="Set by the apiserver.")
    generation: int = Field(default=0, description="Set by the apiserver; bumped on each spec change.")


NAME_RULES = (
    Rule(
        "self.metadata.name.matches('" + DNS_1035_LABEL + "')",
        "pipeline name must be a DNS-1035 label (lower case letters, digits and '-', starting with a letter)",
        lambda p: len(p.metadata.name) <= 63 and re.fullmatch(DNS_1035_LABEL, p.metadata.name) is not None,
    ),
    Rule(
        "self.spec.variants.all(v, size(self.metadata.name) + size(v.name) <= 62)",
        "pipeline and variant names together must be at most 62 characters (children are named <pipeline>-<variant>)",
        lambda p: all(len(p.metadata.name) + len(v.name) <= 62 for v in p.spec.variants),
    ),
)


class EvolvedPipeline(ApiModel):
    """An evolved LLM pipeline: variants of evolved programs served by the shared runtime image."""

    cel_rules = NAME_RULES

    api_version: Literal["pipelines.evolved.io/v1alpha1"] = Field(
        default="pipelines.evolved.io/v1alpha1", description="API version."
    )
    kind: Literal["EvolvedPipeline"] = Field(default="EvolvedPipeline", description="Kind.")
    metadata: ObjectMeta = Field(description="Standard object metadata.")
    spec: EvolvedPipelineSpec = Field(description=EvolvedPipelineSpec.__doc__)
    status: EvolvedPipelineStatus | None = Field(default=None, description=EvolvedPipelineStatus.__doc__)
