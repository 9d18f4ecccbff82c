"""The traffic API: how requests are split between a pipeline's variants (``spec.traffic``) and what
the data plane last confirmed (``status.traffic``).

Three providers behind one field:

- ``router`` (default): the pipeline's own router pods (`evolved-runtime router`) split by weight,
  keep users sticky and mirror a share of requests to a variant, comparing its answers;
- ``gatewayAPI``: an HTTPRoute with weighted ``backendRefs`` (and a ``RequestMirror`` filter) for
  clusters that run a Gateway API implementation;
- ``service``: one Service over every variant's ready pods: shares follow ready replicas.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from evolved_operator.api_base import DNS_LABEL, DNS_SUBDOMAIN, ApiModel, Rule

HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
GATEWAY_GROUP = "gateway.networking.k8s.io"
Hostname = Annotated[str, Field(max_length=253, pattern=HOSTNAME)]

STICKY_WITH_GATEWAY_MESSAGE = (
    "traffic.sticky is not available with provider gatewayAPI: session persistence in the Gateway API "
    "(GEP-1619) is experimental and gateways differ; use provider router for sticky users"
)


class Sticky(ApiModel):
    """Keep a user on one variant: requests with the same key always reach the same variant."""

    cel_rules = (
        Rule(
            "has(self.header) || (has(self.openAIUser) && self.openAIUser)",
            "traffic.sticky needs header or openAIUser: true",
            lambda s: s.header is not None or s.open_ai_user,
        ),
    )

    header: str | None = Field(
        default=None,
        max_length=256,
        pattern=HEADER_NAME,
        description="Request header holding the key (e.g. `X-User-ID`).",
    )
    open_ai_user: bool = Field(
        default=False,
        alias="openAIUser",
        description="Use the request body's OpenAI `user` field as the key (after the header, when both are set).",
    )


class Mirror(ApiModel):
    """Shadow traffic: a copy of a share of the requests the other variants serve goes to this variant;
    its answers never reach a client, and the router compares them with the primary's."""

    variant: str = Field(max_length=40, pattern=DNS_LABEL, description="The variant that receives the copies.")
    percent: int = Field(ge=1, le=100, description="Share of the other variants' requests copied, in percent.")


class ParentRef(ApiModel):
    """A Gateway (or a listener of one) the HTTPRoute attaches to (Gateway API `ParentReference`)."""

    group: str = Field(default=GATEWAY_GROUP, max_length=253, description="Group of the parent.")
    kind: str = Field(default="Gateway", max_length=63, description="Kind of the parent.")
    name: str = Field(max_length=253, pattern=DNS_SUBDOMAIN, description="Name of the parent.")
    namespace: str | None = Field(
        default=None, max_length=63, pattern=DNS_LABEL, description="Namespace of the parent (default: the pipeline's)."
    )
    section_name: str | None = Field(
        default=None, max_length=253, pattern=DNS_SUBDOMAIN, description="A listener of the parent, by name."
    )
    port: int | None = Field(default=None, ge=1, le=65535, description="A listener of the parent, by port.")


class GatewayAPITraffic(ApiModel):
    """Where the pipeline's HTTPRoute attaches, with provider `gatewayAPI`."""

    parent_refs: list[ParentRef] = Field(min_length=1, max_length=32, description="Gateways the HTTPRoute attaches to.")
    hostnames: list[Hostname] = Field(
        default_factory=list,
        max_length=16,
        description="Hostnames the route matches (empty: every hostname of the listener).",
    )


class RouterSettings(ApiModel):
    """The router pods of provider `router`."""

    cel_rules = (
        Rule(
            "!(has(self.replicas) && has(self.minReplicas))",
            "traffic.router: set replicas or minReplicas/maxReplicas, not both",
            lambda r: r.replicas is None or r.min_replicas is None,
        ),
        Rule(
            "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
            "traffic.router.minReplicas must not exceed maxReplicas",
            lambda r: r.min_replicas is None or r.max_replicas is None or r.min_replicas <= r.max_replicas,
        ),
    )

    replicas: int | None = Field(
        default=None, ge=1, le=100, description="Fixed router replicas (default: autoscaled from 2 to 10 on CPU)."
    )
    min_replicas: int | None = Field(default=None, ge=1, le=100, description="Fewest router replicas (default 2).")
    max_replicas: int | None = Field(default=None, ge=1, le=100, description="Most router replicas (default 10).")


class Traffic(ApiModel):
    """How requests are split between the variants."""

    cel_rules = (
        Rule(
            "self.provider != 'gatewayAPI' || has(self.gatewayAPI)",
            "traffic.gatewayAPI (parentRefs) is required with provider gatewayAPI",
            lambda t: t.provider != "gatewayAPI" or t.gateway_api is not None,
        ),
        Rule(
            "!has(self.gatewayAPI) || self.provider == 'gatewayAPI'",
            "traffic.gatewayAPI is only used with provider gatewayAPI",
            lambda t: t.gateway_api is None or t.provider == "gatewayAPI",
        ),
        Rule(
            "!(self.provider == 'gatewayAPI' && has(self.sticky))",
            STICKY_WITH_GATEWAY_MESSAGE,
            lambda t: not (t.provider == "gatewayAPI" and t.sticky is not None),
        ),
        Rule(
            "self.provider != 'service' || (!has(self.sticky) && !has(self.mirror))",
            "provider service splits by ready replicas: it cannot keep users sticky or mirror; use provider router",
            lambda t: t.provider != "service" or (t.sticky is None and t.mirror is None),
        ),
        Rule(
            "!has(self.router) || self.provider == 'router'",
            "traffic.router is only used with provider router",
            lambda t: t.router is None or t.provider == "router",
        ),
    )

    provider: Literal["router", "gatewayAPI", "service"] = Field(
        default="router",
        description="`router`: the pipeline's router pods split by weight, with sticky users and mirroring; "
        "`gatewayAPI`: an HTTPRoute with weighted backends for your Gateway; "
        "`service`: one Service over every variant, shares follow ready replicas.",
    )
    sticky: Sticky | None = Field(default=None, description="Keep each user on one variant (provider router).")
    mirror: Mirror | None = Field(default=None, description="Copy a share of requests to a variant (shadow traffic).")
    gateway_api: GatewayAPITraffic | None = Field(
        default=None, alias="gatewayAPI", description="Parent Gateways and hostnames, with provider `gatewayAPI`."
    )
    router: RouterSettings | None = Field(default=None, description="Router pods, with provider `router`.")


# -- status -------------------------------------------------------------------------------------


class VariantWeight(ApiModel):
    """One variant's share of the requests."""

    name: str = Field(description="Variant name.")
    weight: int = Field(description="Percent of requests the variant serves.")


class MirrorStatus(ApiModel):
    """The mirror as the operator sees it."""

    variant: str = Field(description="The variant receiving copies.")
    percent: int = Field(description="Share copied, in percent.")
    state: Literal["Active", "Paused"] = Field(description="`Paused` while the variant has no ready pod.")
    message: str = Field(default="", description="Why, when paused.")


class TrafficStatus(ApiModel):
    """The effective split and what the data plane confirmed."""

    provider: str = Field(description="The traffic provider in use.")
    weights: str = Field(description="The effective weights, e.g. `stable=90,canary=10` (a printer column).")
    variants: list[VariantWeight] = Field(default_factory=list, description="The effective weight of every variant.")
    mirror: MirrorStatus | None = Field(default=None, description="The mirror, when one is declared.")
    confirmed_weights: str | None = Field(
        default=None, description="The weights the data plane (router, gateway) last confirmed it applies."
    )
    confirmed_time: str | None = Field(default=None, description="When the data plane confirmed them (RFC 3339).")
