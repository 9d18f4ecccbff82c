"""Models -> structural OpenAPI schema, CEL rules, printer columns -> the CRD YAML.

pydantic's JSON schema is turned into a Kubernetes structural schema: references inlined,
``Optional`` unwrapped (absent means unset), titles dropped, descriptions kept, defaults kept,
and ``x-kubernetes-*`` extras passed through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from evolved_operator.api import EvolvedPipeline
from evolved_operator.constants import CATEGORY, GROUP, KIND, PLURAL, SHORT_NAME, SINGULAR, VERSION

CRD_PATH = Path(__file__).resolve().parent.parent / "crds" / f"{PLURAL}.{GROUP}.yaml"
_KEEP = {
    "type",
    "description",
    "default",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "format",
}


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = defs[node["$ref"].split("/")[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _structural(merged, defs)
    if node.get("x-kubernetes-int-or-string"):
        out: dict[str, Any] = {"x-kubernetes-int-or-string": True}
        for key in ("description", "default"):
            if key in node:
                out[key] = node[key]
        return out
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            merged = {**options[0], **{k: v for k, v in node.items() if k not in ("anyOf",)}}
            if merged.get("default", 0) is None:
                merged.pop("default")
            return _structural(merged, defs)
        raise ValueError(f"cannot express anyOf {node['anyOf']} in a structural schema")
    out = {k: v for k, v in node.items() if k in _KEEP or k.startswith("x-kubernetes-")}
    if "const" in node:
        out["enum"] = [node["const"]]
    if out.get("default", 0) is None:
        out.pop("default")
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        out["type"] = "object"
        if "properties" in node:
            out["properties"] = {name: _structural(sub, defs) for name, sub in node["properties"].items()}
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = _structural(node["additionalProperties"], defs)
        if node.get("required"):
            out["required"] = list(node["required"])
    elif kind == "array":
        out["items"] = _structural(node["items"], defs)
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[plain] = out.pop(bound)
            out[bound] = True  # OpenAPI v3.0: a flag on minimum/maximum
    if out.get("type") == "number":
        out.pop("format", None)
    return out


def _schema_of(model: type[Any]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _structural(raw, defs)


def _strip_object_defaults(node: dict[str, Any]) -> None:
    """Drop defaults of object-typed fields ({}), which the apiserver would prune or reject."""
    for child in node.get("properties", {}).values():
        if child.get("type") == "object" and isinstance(child.get("default"), dict):
            child.pop("default")
        if child.get("type") == "array" and child.get("default") == []:
            child.pop("default")
        _strip_object_defaults(child)
    if "items" in node:
        _strip_object_defaults(node["items"])


PRINTER_COLUMNS = [
    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    {"name": "Stable", "type": "string", "jsonPath": ".status.stable"},
    {"name": "Candidate", "type": "string", "jsonPath": ".status.candidate"},
    {"name": "Weights", "type": "string", "jsonPath": ".status.traffic.weights"},
    {"name": "Reason", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].reason', "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def crd() -> dict[str, Any]:
    """The CustomResourceDefinition, as a plain dict."""
    root = _schema_of(EvolvedPipeline)
    _strip_object_defaults(root)
    properties = root["properties"]
    status = properties["status"]
    status["properties"]["conditions"]["x-kubernetes-list-type"] = "map"
    status["properties"]["conditions"]["x-kubernetes-list-map-keys"] = ["type"]
    schema = {
        "type": "object",
        "description": root["description"],
        "required": ["spec"],
        "x-kubernetes-validations": root["x-kubernetes-validations"],
        "properties": {
            "apiVersion": {"type": "string", "description": properties["apiVersion"]["description"]},
            "kind": {"type": "string", "description": properties["kind"]["description"]},
            "metadata": {"type": "object"},
            "spec": properties["spec"],
            "status": status,
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{PLURAL}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "evolved-operator", "app.kubernetes.io/part-of": "evolved-pipelines"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": [SHORT_NAME],
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_yaml() -> str:
    header = "# Generated by `evolved-operator crd` from evolved_operator/api.py: do not edit.\n"
    return header + yaml.dump(crd(), Dumper=_NoAliases, sort_keys=False, width=120)


def write(path: Path = CRD_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_yaml())
    return path
