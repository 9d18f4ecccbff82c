"""The EvolvedPipeline API: pydantic models that are the CRD's single source of truth.

Field descriptions become the CRD's descriptions and ``docs/api.md``; ``x-kubernetes-*``
extras and CEL rules are attached with ``json_schema_extra``. Later capabilities (traffic
weights, canary analysis, caching, limits, budgets, auth) slot in as new optional fields of
:class:`EvolvedPipelineSpec` without breaking the ones here.

Traffic in this version: the pipeline's entry Service selects every variant's ready pods, so
each variant's share of requests follows its share of ready replicas.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

COMPONENTS = ("router", "translation", "profiles")
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
INT_OR_PERCENT: JsonDict = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}


class ApiModel(BaseModel):
    """camelCase on the wire, strict about unknown fields (the schema rejects them too)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# -- programs -------------------------------------------------------------------------------


class ConfigMapKeyRef(ApiModel):
    """A program stored under a key of a ConfigMap in the pipeline's namespace."""

    name: str = Field(
        max_length=253, pattern=DNS_LABEL.replace("([-a-z0-9]*", "([-.a-z0-9]*"), description="ConfigMap name."
    )
    key: str = Field(max_length=253, pattern=r"^[-._a-zA-Z0-9]+$", description="Key holding the program's source.")
    sha256: str | None = Field(
        default=None,
        pattern=r"^[a-f0-9]{64}$",
        description="Optional pin: the sha256 of the source. A mismatch stalls the pipeline instead of rolling out unexpected code.",
    )


class ProgramSource(ApiModel):
    """Where one evolved program comes from: exactly one of inline, configMapKeyRef or path."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "[has(self.inline), has(self.configMapKeyRef), has(self.path)].filter(x, x).size() == 1",
                    "message": "set exactly one of inline, configMapKeyRef or path",
                }
            ]
        }
    )

    inline: str | None = Field(default=None, max_length=262144, description="The program's Python source, inline.")
    config_map_key_ref: ConfigMapKeyRef | None = Field(default=None, description="The program from a ConfigMap key.")
    path: str | None = Field(
        default=None,
        max_length=1024,
        pattern=r"^/.+\.py$",
        description="Absolute path of a program baked into a custom image (a `.py` file).",
    )


class Programs(ApiModel):
    """The variant's evolved programs; a component left out uses the default shipped in the image."""

    router: ProgramSource | None = Field(default=None, description="`route(prompt, context) -> RoutingDecision`.")
    translation: ProgramSource | None = Field(
        default=None, description="`translate(prompt, level, hints, llm) -> SymIL | None`."
    )
    profiles: ProgramSource | None = Field(default=None, description="`get_profile(name)`, `list_profiles()`.")

    def sources(self) -> dict[str, ProgramSource]:
        return {c: s for c in COMPONENTS if (s := getattr(self, c)) is not None}


# -- pods -------------------------------------------------------------------------------------


class ResourceList(ApiModel):
    """CPU and memory quantities."""

    cpu: str | None = Field(default=None, max_length=64, pattern=QUANTITY, description="CPU quantity, e.g. `500m`.")
    memory: str | None = Field(
        default=None, max_length=64, pattern=QUANTITY, description="Memory quantity, e.g. `512Mi`."
    )


class Resources(ApiModel):
    """Container resources of the variant's worker pods."""

    requests: ResourceList | None = Field(
        default=None, description="Requested resources (the HPA's CPU target is relative to this)."
    )
    limits: ResourceList | None = Field(default=None, description="Resource limits.")


class EnvVar(ApiModel):
    """An environment variable of the worker container."""

    name: str = Field(max_length=256, pattern=ENV_NAME, description="Variable name.")
    value: str = Field(default="", max_length=32768, description="Variable value (use Secrets for secrets: see `llm`).")


class Autoscaling(ApiModel):
    """A HorizontalPodAutoscaler for this variant alone."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"},
            ]
        }
    )

    min_replicas: int = Field(default=1, ge=1, le=1000, description="Fewest replicas.")
    max_replicas: int = Field(ge=1, le=1000, description="Most replicas.")
    target_cpu_utilization_percentage: int | None = Field(
        default=None,
        alias="targetCPUUtilizationPercentage",
        ge=1,
        le=100,
        description="Average CPU utilization to keep, in percent of the request (80 when no target is set).",
    )
    target_requests_per_second: int | None = Field(
        default=None,
        ge=1,
        le=100000,
        description="Average requests per second per pod to keep (a Pods metric `evolved_requests_per_second` served by a metrics adapter).",
    )


class Variant(ApiModel):
    """One variant of the pipeline: a set of programs served by its own Deployment."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!(has(self.replicas) && has(self.autoscaling))",
                    "message": "set replicas or autoscaling, not both",
                }
            ]
        }
    )

    name: str = Field(
        max_length=40, pattern=DNS_LABEL, description="Variant name, a DNS label, unique in the pipeline."
    )
    role: Literal["stable", "candidate"] = Field(
        default="stable", description="`stable` serves production; `candidate` is the variant under test."
    )
    programs: Programs = Field(default_factory=Programs, description="The variant's evolved programs.")
    replicas: int | None = Field(
        default=None, ge=0, le=1000, description="Fixed replica count (default 1) when autoscaling is unset."
    )
    autoscaling: Autoscaling | None = Field(default=None, description="Scale this variant with its own HPA.")
    resources: Resources | None = Field(default=None, description="Container resources.")
    env: list[EnvVar] = Field(default_factory=list, max_length=64, description="Extra environment variables.")

    def desired_replicas(self) -> int:
        if self.autoscaling is not None:
            return self.autoscaling.min_replicas
        return 1 if self.replicas is None else self.replicas


# -- pipeline-wide settings -----------------------------------------------------------------------


class Image(ApiModel):
    """The shared runtime image every worker runs."""

    repository: str = Field(default="evolved-pipelines/runtime", max_length=512, description="Image repository.")
    tag: str = Field(default="0.1.0", max_length=128, description="Image tag (or a digest `sha256:...`).")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        default="IfNotPresent", description="Image pull policy."
    )
    pull_secrets: list[str] = Field(default_factory=list, max_length=16, description="Names of image pull Secrets.")

    def reference(self) -> str:
        separator = "@" if self.tag.startswith("sha256:") else ":"
        return f"{self.repository}{separator}{self.tag}"


class RollingUpdate(ApiModel):
    """How a variant's Deployment replaces pods when its programs or settings change."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!(string(self.maxSurge) in ['0', '0%'] && string(self.maxUnavailable) in ['0', '0%'])",
                    "message": "maxSurge and maxUnavailable must not both be zero",
                }
            ]
        }
    )

    max_surge: int | str = Field(
        default="25%", json_schema_extra=INT_OR_PERCENT, description="Extra pods during an update (number or percent)."
    )
    max_unavailable: int | str = Field(
        default=0, json_schema_extra=INT_OR_PERCENT, description="Pods that may be unavailable during an update."
    )


class SecretKeyRef(ApiModel):
    """A key of a Secret in the pipeline's namespace."""

    name: str = Field(max_length=253, description="Secret name, in the pipeline's namespace.")
    key: str = Field(max_length=253, description="Key in the Secret.")


class LLM(ApiModel):
    """The LLM provider of Tier 0 and of LLM-assisted translation (any OpenAI-compatible endpoint)."""

    provider: Literal["openai"] = Field(default="openai", description="Provider protocol.")
    base_url: str = Field(
        alias="baseURL",
        max_length=2048,
        pattern=r"^https?://",
        description="Base URL, e.g. `https://api.openai.com/v1`.",
    )
    model: str = Field(max_length=256, description="Model name sent upstream.")
    api_key_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the API key; it reaches pods only as an environment variable."
    )
    timeout_seconds: float = Field(default=60, gt=0, le=600, description="Upstream request timeout.")


class Solver(ApiModel):
    """Limits of each solver call (Z3, Clingo) inside the workers."""

    timeout_ms: int = Field(default=2000, ge=10, le=600000, description="Wall-clock limit per call.")
    memory_mb: int = Field(
        default=512, ge=64, le=65536, alias="memoryMB", description="Address-space limit per solver process."
    )
    pool_size: int = Field(default=2, ge=1, le=64, description="Solver processes per worker.")


class Toleration(ApiModel):
    """A Kubernetes toleration, passed to the pods."""

    key: str | None = Field(default=None, max_length=316, description="Taint key to tolerate (empty: all).")
    operator: Literal["Exists", "Equal"] | None = Field(default=None, description="`Exists` or `Equal`.")
    value: str | None = Field(default=None, max_length=63, description="Taint value, with `Equal`.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect."
    )
    toleration_seconds: int | None = Field(default=None, description="How long a `NoExecute` taint is tolerated.")


class PodOverrides(ApiModel):
    """Scheduling and metadata for every worker pod of the pipeline."""

    node_selector: dict[str, str] = Field(default_factory=dict, description="Node labels the pods require.")
    tolerations: list[Toleration] = Field(default_factory=list, max_length=32, description="Tolerations.")
    affinity: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True, "type": "object"},
        description="A Kubernetes `Affinity`, passed to the pods as written.",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Extra pod labels.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Extra pod annotations.")
    service_account_name: str | None = Field(default=None, max_length=253, description="ServiceAccount of the pods.")


class EvolvedPipelineSpec(ApiModel):
    """The desired state of an evolved pipeline."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.variants.all(a, self.variants.exists_one(b, b.name == a.name))",
                    "message": "variant names must be unique",
                },
                {
                    "rule": "self.variants.exists_one(v, v.role == 'stable')",
                    "message": "exactly one variant must have role stable",
                },
            ]
        }
    )

    image: Image = Field(default_factory=Image, description="The shared runtime image.")
    variants: list[Variant] = Field(
        min_length=1, max_length=8, description="The variants; exactly one has role `stable`."
    )
    rolling_update: RollingUpdate = Field(default_factory=RollingUpdate, description="Rolling update of each variant.")
    llm: LLM | None = Field(
        default=None, description="The LLM provider; unset: no LLM (questions the solvers cannot take get 503)."
    )
    solver: Solver = Field(default_factory=Solver, description="Solver limits.")
    pod: PodOverrides = Field(default_factory=PodOverrides, description="Pod scheduling and metadata overrides.")

    def stable(self) -> Variant:
        return next(v for v in self.variants if v.role == "stable")

    def candidates(self) -> list[Variant]:
        return [v for v in self.variants if v.role == "candidate"]


# -- status -------------------------------------------------------------------------------------------


class Condition(ApiModel):
    """A standard Kubernetes condition (metav1.Condition)."""

    type: str = Field(description="`Ready`, `Reconciling` or `Stalled`.")
    status: Literal["True", "False", "Unknown"] = Field(description="The condition's state.")
    reason: str = Field(description="Why, in CamelCase (e.g. `ConfigMapNotFound`).")
    message: str = Field(default="", description="Details for people, naming the field at fault.")
    observed_generation: int | None = Field(default=None, description="The generation this condition describes.")
    last_transition_time: str = Field(description="When the status last changed.")


class VariantStatus(ApiModel):
    """Observed state of one variant's Deployment."""

    name: str = Field(description="Variant name.")
    role: str = Field(description="`stable` or `candidate`.")
    replicas: int = Field(default=0, description="Pods of the variant.")
    ready_replicas: int = Field(default=0, description="Pods that are ready.")
    updated_replicas: int = Field(default=0, description="Pods that run the current programs and settings.")
    program_hash: str = Field(default="", description="Hash of the programs the Deployment runs.")
    image: str = Field(default="", description="The runtime image.")


class EvolvedPipelineStatus(ApiModel):
    """Observed state, written by the operator only."""

    observed_generation: int | None = Field(default=None, description="The `metadata.generation` last handled.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready, Reconciling, Stalled.")
    variants: list[VariantStatus] = Field(default_factory=list, description="Per-variant replicas and program hash.")
    stable: str | None = Field(default=None, description="Name of the stable variant.")
    candidate: str | None = Field(default=None, description="Name(s) of candidate variants, comma-separated.")
