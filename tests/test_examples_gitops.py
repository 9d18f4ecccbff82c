"""The GitOps examples (examples/gitops/): Argo CD and Flux objects that sync examples/ from Git.

Their CRDs are not installed in the test cluster, so they are checked here as YAML: the kinds,
API versions and the fields the docs promise (the path, pruning, waiting on health)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[1]
GITOPS = ROOT / "examples" / "gitops"
PLACEHOLDER = "https://git.example.com/your-org/evolved-pipelines.git"


def docs(name: str) -> dict[str, dict[str, Any]]:
    loaded = [d for d in yaml.safe_load_all((GITOPS / name).read_text()) if d]
    by_kind = {str(d["kind"]): d for d in loaded}
    assert len(by_kind) == len(loaded), f"{name}: one object per kind"
    return by_kind


def test_the_gitops_folder_holds_exactly_the_argo_cd_and_flux_examples() -> None:
    assert sorted(p.name for p in GITOPS.iterdir()) == ["argocd-application.yaml", "flux-kustomization.yaml"]


def test_the_argo_cd_application_syncs_the_top_level_examples_with_pruning_and_self_heal() -> None:
    (app,) = docs("argocd-application.yaml").values()
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert app["metadata"]["namespace"] == "argocd"
    source = app["spec"]["source"]
    assert source["repoURL"] == PLACEHOLDER
    assert source["path"] == "examples"
    assert source["directory"]["recurse"] is False  # not examples/gitops/ itself
    assert app["spec"]["destination"]["namespace"] == "default"
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_the_argo_cd_example_says_health_needs_the_lua_check_in_argocd_cm() -> None:
    text = (GITOPS / "argocd-application.yaml").read_text()
    assert "argocd-cm" in text
    assert "docs/install.md" in text


def test_the_flux_kustomization_applies_examples_from_the_git_repository_and_waits_for_health() -> None:
    objects = docs("flux-kustomization.yaml")
    assert sorted(objects) == ["GitRepository", "Kustomization"]
    repo, kustomization = objects["GitRepository"], objects["Kustomization"]
    assert repo["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert repo["spec"]["url"] == PLACEHOLDER
    assert "/examples/gitops/" in repo["spec"]["ignore"].split()  # Flux would apply this folder too
    assert kustomization["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    spec = kustomization["spec"]
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": repo["metadata"]["name"]}
    assert kustomization["metadata"]["namespace"] == repo["metadata"]["namespace"] == "flux-system"
    assert spec["path"] == "./examples"
    assert spec["prune"] is True
    assert spec["wait"] is True
    assert spec["timeout"] == "15m"


def test_the_synced_folder_holds_only_objects_the_test_cluster_can_validate() -> None:
    """What Argo CD (recurse: false) and Flux (gitops/ ignored) apply: examples/*.yaml, each a
    ConfigMap or an EvolvedPipeline (tests/operator/test_api_examples.py validates them)."""
    kinds = {d["kind"] for p in (ROOT / "examples").glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d}
    assert kinds == {"ConfigMap", "EvolvedPipeline"}
