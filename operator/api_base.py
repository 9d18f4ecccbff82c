"""What every API model shares: the base model (camelCase, strict), cross-field rules (CEL and
Python with one message), and the patterns of Kubernetes names and values."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from evolved_operator.constants import GROUP

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DATA_KEY = r"^[-._a-zA-Z0-9]+$"
QUANTITY = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
QUALIFIED_NAME = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_REPO = r"([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}"
REPOSITORY = f"^{_REPO}$"
TAG = f"^({_TAG}|{_DIGEST})$"
IMAGE_REFERENCE = f"^{_REPO}(:{_TAG})?(@{_DIGEST})?$"
PERCENT = r"^[0-9]+%$"

# Names the operator sets on every pod and child: users may not set them (they would be ignored).
RESERVED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    f"{GROUP}/pipeline",
    f"{GROUP}/variant",
)
RESERVED_ANNOTATION_PREFIX = f"{GROUP}/"
RESERVED_ENV_PREFIX = "EVOLVED_"

INT_OR_STRING: JsonDict = {"x-kubernetes-int-or-string": True}


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: ``cel`` for the apiserver, ``holds`` for the models, one message for both."""

    cel: str
    message: str
    holds: Callable[[Any], bool]


def _cel_rules(schema: JsonDict, cls: type[Any]) -> None:
    rules: tuple[Rule, ...] = getattr(cls, "cel_rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [{"rule": r.cel, "message": r.message} for r in rules]


class ApiModel(BaseModel):
    """camelCase on the wire, strict about unknown fields (the schema rejects them too)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", json_schema_extra=_cel_rules
    )
    cel_rules: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        broken = [rule.message for rule in self.cel_rules if not rule.holds(self)]
        if broken:
            raise ValueError("; ".join(broken))
        return self


def _one_of(*values: Any) -> bool:
    return sum(v is not None for v in values) == 1


def _is_zero(value: int | str) -> bool:
    return str(value) in ("0", "0%")


def _valid_int_or_percent(value: int | str) -> bool:
    return value >= 0 if isinstance(value, int) else value[:-1].isdigit() and value.endswith("%")


def _cel_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{item}'" for item in items) + "]"


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    return len(name) <= 63 and len(prefix) <= 253 and re.fullmatch(QUALIFIED_NAME, key) is not None


def _keys_rule(wire: str, attribute: str) -> Rule:
    """Map keys must be qualified names (`[prefix/]name`), as Kubernetes labels and annotations are."""
    pattern = QUALIFIED_NAME.replace("\\.", "[.]")  # CEL strings have no `\.` escape
    return Rule(
        f"!has(self.{wire}) || self.{wire}.all(k, size(k) <= 317 && k.matches('{pattern}'))",
        f"pod.{wire} keys must be qualified names ([prefix/]name, name at most 63 characters)",
        lambda p: all(_qualified_name(k) for k in getattr(p, attribute)),
    )


Str63 = Annotated[str, Field(max_length=63, pattern=LABEL_VALUE)]
Str4k = Annotated[str, Field(max_length=4096)]
PullSecretName = Annotated[str, Field(max_length=253, pattern=DNS_SUBDOMAIN)]
