"""Content and program hashes: what rolls a variant, and what does not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from evolved_operator.api import EvolvedPipelineSpec
from evolved_operator.constants import ANNOTATION_CONTENT_HASH, ANNOTATION_PROGRAM_HASH
from evolved_operator.render import PipelineInput, program_hashes, render_all

CM_ROUTER = {"router": {"configMapKeyRef": {"name": "progs", "key": "router.py"}}}
BASE: dict[str, Any] = {
    "variants": [
        {"name": "stable", "role": "stable", "programs": {"router": {"inline": "v1"}}},
        {"name": "cand", "role": "candidate", "programs": CM_ROUTER},
    ]
}
RESOLVED = {"cand": {"router": "cm v1"}}


def pipeline(doc: dict[str, Any], programs: dict[str, dict[str, str]] | None = None) -> PipelineInput:
    resolved = RESOLVED if programs is None else programs
    return PipelineInput("qa", "ns", "uid-1", 1, EvolvedPipelineSpec.model_validate(doc), resolved)


def template_annotations(p: PipelineInput, variant: str) -> dict[str, str]:
    deployment = next(
        o for o in render_all(p) if o["kind"] == "Deployment" and o["metadata"]["name"] == f"qa-{variant}"
    )
    return dict(deployment["spec"]["template"]["metadata"]["annotations"])


def changed(path: list[str | int], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    node: Any = doc
    for key in path[:-1]:
        node = node[key] if isinstance(key, int) else node.setdefault(key, {})
    node[path[-1]] = value
    return doc


# (what changes, the pipeline after it, variants whose pods roll, variants whose program hash changes)
CASES: dict[str, tuple[PipelineInput, set[str], set[str]]] = {
    "an inline program": (
        pipeline(changed(["variants", 0, "programs", "router", "inline"], "v2")), {"stable"}, {"stable"},
    ),
    "the ConfigMap key a program comes from": (
        pipeline(BASE, {"cand": {"router": "cm v2"}}), {"cand"}, {"cand"},
    ),
    "a program moved from inline to an image path": (
        pipeline(changed(["variants", 0, "programs", "router"], {"path": "/opt/router.py"})), {"stable"}, {"stable"},
    ),
    "a solver limit": (pipeline(changed(["solver"], {"timeoutMs": 5000})), {"stable", "cand"}, set()),
    "an env var of one variant": (
        pipeline(changed(["variants", 1, "env"], [{"name": "MODE", "value": "x"}])), {"cand"}, set(),
    ),
    "the LLM model": (
        pipeline(changed(["llm"], {"baseURL": "https://x/v1", "model": "m"})), {"stable", "cand"}, set(),
    ),
    "the replica count": (pipeline(changed(["variants", 0, "replicas"], 5)), set(), set()),
    "the role of a variant": (
        pipeline({"variants": [BASE["variants"][0] | {"role": "candidate"}, BASE["variants"][1] | {"role": "stable"}]}),
        set(), set(),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("after", "rolled", "reprogrammed"), list(CASES.values()), ids=list(CASES))
def test_a_change_rolls_exactly_the_variants_whose_pods_run_something_new(
    after: PipelineInput, rolled: set[str], reprogrammed: set[str]
) -> None:
    before = pipeline(BASE)
    for variant in ("stable", "cand"):
        old, new = template_annotations(before, variant), template_annotations(after, variant)
        assert (old[ANNOTATION_CONTENT_HASH] != new[ANNOTATION_CONTENT_HASH]) == (variant in rolled), variant
        assert (old[ANNOTATION_PROGRAM_HASH] != new[ANNOTATION_PROGRAM_HASH]) == (variant in reprogrammed), variant
    assert {v for v in ("stable", "cand") if program_hashes(before)[v] != program_hashes(after)[v]} == reprogrammed


def test_the_program_hash_is_on_the_pod_in_its_environment_and_in_program_hashes() -> None:
    p = pipeline(BASE)
    deployment = next(o for o in render_all(p) if o["kind"] == "Deployment" and o["metadata"]["name"] == "qa-cand")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["EVOLVED_PROGRAM_HASH"] == program_hashes(p)["cand"]
    assert template_annotations(p, "cand")[ANNOTATION_PROGRAM_HASH] == program_hashes(p)["cand"]


def test_the_content_hash_is_a_full_sha256() -> None:
    value = template_annotations(pipeline(BASE), "stable")[ANNOTATION_CONTENT_HASH]
    assert len(value) == 64
    assert int(value, 16) >= 0
