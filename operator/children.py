"""The one registry of the kinds of objects the operator creates for a pipeline.

The kopf watches (``handlers``), the order in which a reconcile applies children
(``apply_plan``), the cache priming at start and the RBAC the operator needs all read this list,
so a new kind of child is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass

GATEWAY_API_GROUP = "gateway.networking.k8s.io"


@dataclass(frozen=True)
class ChildKind:
    """One kind of child object. ``optional`` kinds come from CRDs a cluster may not have (the
    Gateway API): their watch and cache priming are skipped with a log line when absent."""

    group: str
    version: str
    plural: str
    kind: str
    optional: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


# In apply order: what pods mount or run as first, then what selects or scales them.
CHILD_KINDS: tuple[ChildKind, ...] = (
    ChildKind("", "v1", "configmaps", "ConfigMap"),
    ChildKind("", "v1", "serviceaccounts", "ServiceAccount"),
    ChildKind("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    ChildKind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    ChildKind("coordination.k8s.io", "v1", "leases", "Lease"),
    ChildKind("", "v1", "services", "Service"),
    ChildKind("apps", "v1", "deployments", "Deployment"),
    ChildKind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    ChildKind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    ChildKind(GATEWAY_API_GROUP, "v1", "httproutes", "HTTPRoute", optional=True),
)

APPLY_ORDER: tuple[str, ...] = tuple(k.kind for k in CHILD_KINDS)
# Written before everything else, one batch ahead: pods mount them, and a Role must exist before
# the RoleBinding and the pods that use it.
FIRST_KINDS = frozenset({"ConfigMap", "ServiceAccount", "Role"})

# What the router pods read and write (their Role; the operator needs the same to grant it).
ROUTER_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pipelines.evolved.io", "evolvedpipelines", ("get", "list", "watch")),
    ("discovery.k8s.io", "endpointslices", ("get", "list", "watch")),
    ("coordination.k8s.io", "leases", ("get", "update", "patch")),
)


def by_kind(kind: str) -> ChildKind:
    return next(k for k in CHILD_KINDS if k.kind == kind)
