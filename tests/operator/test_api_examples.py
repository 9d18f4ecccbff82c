"""The shipped examples are valid pipelines: for the models, for the renderers and for the apiserver."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import operator_proc
from e2e.kube import Kubectl
from evolved_operator.api import EvolvedPipeline
from evolved_operator.render import PipelineInput, render_all

EXAMPLES_DIR = Path(__file__).parents[2] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))


def pipelines(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "EvolvedPipeline"]


def configmaps(path: Path) -> dict[str, dict[str, str]]:
    docs = yaml.safe_load_all(path.read_text())
    return {d["metadata"]["name"]: d["data"] for d in docs if d and d.get("kind") == "ConfigMap"}


def test_there_is_a_quickstart_and_an_ab_experiment() -> None:
    assert {p.name for p in EXAMPLES} >= {"quickstart.yaml", "ab-experiment.yaml"}


def test_the_ab_experiment_splits_80_20_with_sticky_users_through_the_router() -> None:
    (doc,) = pipelines(EXAMPLES_DIR / "ab-experiment.yaml")
    spec = EvolvedPipeline.model_validate(doc).spec
    assert [(v.name, v.weight) for v in spec.variants] == [("baseline", 80), ("gen42", 20)]
    traffic = spec.traffic_settings()
    assert traffic.provider == "router"
    assert traffic.sticky is not None
    assert (traffic.sticky.header, traffic.sticky.open_ai_user) == ("X-User-ID", True)


def test_the_quickstart_runs_two_replicas_of_one_stable_variant_with_default_programs_and_no_llm() -> None:
    (doc,) = pipelines(EXAMPLES_DIR / "quickstart.yaml")
    spec = EvolvedPipeline.model_validate(doc).spec
    assert [(v.name, v.role, v.desired_replicas(), v.programs.sources()) for v in spec.variants] == [
        ("stable", "stable", 2, {})
    ]
    assert spec.llm is None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_validates_and_renders_with_the_programs_it_ships(path: Path) -> None:
    data = configmaps(path)
    for doc in pipelines(path):
        resource = EvolvedPipeline.model_validate(doc)
        resolved = {
            v.name: {
                c: data[s.config_map_key_ref.name][s.config_map_key_ref.key]
                for c, s in v.programs.sources().items()
                if s.config_map_key_ref is not None
            }
            for v in resource.spec.variants
        }
        assert render_all(PipelineInput.from_resource(resource, resolved))


@pytest.mark.cluster
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_apiserver_accepts_an_example(kubeconfig: str, path: Path) -> None:
    kubectl = Kubectl(kubeconfig)
    operator_proc.install_crd(kubectl)
    proc = kubectl.run("apply", "--server-side", "--dry-run=server", "-f", str(path), check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_sha256_pin_in_an_example_matches_the_program_it_ships(path: Path) -> None:
    data = configmaps(path)
    for doc in pipelines(path):
        for variant in EvolvedPipeline.model_validate(doc).spec.variants:
            for source in variant.programs.sources().values():
                ref = source.config_map_key_ref
                if ref is not None and ref.sha256 is not None:
                    assert hashlib.sha256(data[ref.name][ref.key].encode()).hexdigest() == ref.sha256
