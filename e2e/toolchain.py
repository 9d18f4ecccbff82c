"""Build the control plane's binaries from their Go modules, pinned and cached per version.

No container image registry is reachable, so kube-apiserver, kube-controller-manager,
kube-scheduler and etcd are compiled from the Go module proxy. ``go install`` refuses modules
that carry ``replace`` directives (k8s.io/kubernetes points its staging modules at local
folders, etcd's server at sibling folders), so each is built inside a small wrapper module that
requires it and replaces each of those modules with its published version. The list of
replacements is generated from the module's own go.mod, never typed by hand.

The Gateway API data plane of the tests comes the same way: Traefik is built inside a writable
copy of its own module (its go.mod replaces a module with a local folder, so neither
``go install`` nor a wrapper can build it), and the standard Gateway API CRDs are copied out of
the ``sigs.k8s.io/gateway-api`` module. Prometheus, which the analysis tests scrape routers with,
is a plain ``go install`` with the ``remove_all_sd`` tag (static targets only: the cloud SDKs of
its service discovery are not compiled). metrics-server, which serves the resource metrics API
(KWOK's simulated CPU and memory) to the HPA controller, is a plain ``go install`` too; its base
manifests (the APIService and Service kwokctl registers) are copied out of the same module.

Run ``python -m e2e.toolchain`` to build everything (a no-op when cached), or name targets
(``python -m e2e.toolchain traefik gateway-api``); it prints progress and the binary directory
as its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2e.paths import bin_dir, cache_dir

KUBERNETES_VERSION = "v1.34.4"
ETCD_VERSION = "v3.6.16"
KWOK_VERSION = "v0.8.0"
HELM_VERSION = "v3.19.5"
VEGETA_VERSION = "v12.13.0"  # open-loop HTTP load at a fixed rate, for the runtime benchmark
TRAEFIK_VERSION = "v3.6.12"  # v3.7.x: some of its dependencies are not served by the module proxy here
GATEWAY_API_VERSION = "v1.4.0"  # the version Traefik v3.6.12 is built with (its go.mod)
PROMETHEUS_VERSION = "v0.316.0"  # Prometheus 3.16.0: its Go module numbers v3.X.Y as v0.3XX.Y
METRICS_SERVER_VERSION = "v0.8.1"  # the version KWOK v0.8.0's kwokctl runs by default
KIND_VERSION = "v0.30.0"  # make kind-up's node image is its default (a test reads it from the module)

_REPLACE_RE = re.compile(r"^\s*(\S+)\s*=>\s*(\.\.?/\S*)\s*$")


@dataclass(frozen=True)
class Wrapped:
    """A module built through a wrapper go.mod."""

    name: str
    module: str
    version: str
    packages: dict[str, str]  # binary name -> package path
    staging_version: str  # version the locally-replaced modules are pinned to
    ldflags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Installed:
    """A module whose commands `go install` builds directly."""

    name: str
    version: str
    packages: dict[str, str]
    ldflags: tuple[str, ...] = field(default_factory=tuple)
    bench_only: bool = False  # built on demand by a benchmark, not by `make test`
    tags: tuple[str, ...] = ()  # go build tags


@dataclass(frozen=True)
class InModule:
    """A module built inside a writable copy of itself (its go.mod replaces modules with folders)."""

    name: str
    module: str
    version: str
    packages: dict[str, str]  # binary name -> package path relative to the module root ("./cmd/x")
    ldflags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Files:
    """Files copied out of a module (YAML manifests), cached like binaries."""

    name: str
    module: str
    version: str
    folder: str  # inside the module
    pattern: str  # glob of the files to copy from that folder
    packages: dict[str, str] = field(default_factory=dict)  # none: nothing is compiled


Target = Wrapped | Installed | InModule | Files


def _k8s_ldflags(version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    prefix = "k8s.io/component-base/version"
    return (
        f"-X {prefix}.gitVersion={version}",
        f"-X {prefix}.gitMajor={major}",
        f"-X {prefix}.gitMinor={minor}",
        f"-X {prefix}.gitTreeState=clean",
        f"-X {prefix}.buildDate=1970-01-01T00:00:00Z",
        "-X k8s.io/client-go/pkg/version.gitVersion=" + version,
        "-s -w",
    )


def _prometheus_ldflags(version: str) -> tuple[str, ...]:
    """``v0.316.0`` -> ``3.16.0`` as the version Prometheus reports (its web UI is left out: the
    ``builtinassets`` tag is not set, and the analysis needs only the HTTP API)."""
    minor, patch = version.lstrip("v").split(".")[1:]
    prefix = "github.com/prometheus/common/version"
    return (f"-X {prefix}.Version={int(minor) // 100}.{int(minor) % 100}.{patch}", f"-X {prefix}.Branch=HEAD", "-s -w")


def targets() -> list[Target]:
    kube_staging = "v0." + KUBERNETES_VERSION.split(".", 1)[1]
    return [
        Wrapped(
            name="kubernetes",
            module="k8s.io/kubernetes",
            version=KUBERNETES_VERSION,
            packages={
                "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
                "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
                "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            },
            staging_version=kube_staging,
            ldflags=_k8s_ldflags(KUBERNETES_VERSION),
        ),
        Wrapped(
            name="etcd",
            module="go.etcd.io/etcd/server/v3",
            version=ETCD_VERSION,
            packages={"etcd": "go.etcd.io/etcd/server/v3"},
            staging_version=ETCD_VERSION,
            ldflags=("-s -w",),
        ),
        Installed(
            name="kwok",
            version=KWOK_VERSION,
            packages={
                "kwok": "sigs.k8s.io/kwok/cmd/kwok",
                "kwokctl": "sigs.k8s.io/kwok/cmd/kwokctl",
            },
            ldflags=(f"-X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION}", "-s -w"),
        ),
        Installed(
            name="helm",
            version=HELM_VERSION,
            packages={"helm": "helm.sh/helm/v3/cmd/helm"},
            ldflags=(f"-X helm.sh/helm/v3/internal/version.version={HELM_VERSION}", "-s -w"),
        ),
        Installed(
            name="kind",
            version=KIND_VERSION,
            packages={"kind": "sigs.k8s.io/kind"},
            ldflags=("-s -w",),
        ),
        Installed(
            name="vegeta",
            version=VEGETA_VERSION,
            packages={"vegeta": "github.com/tsenart/vegeta/v12"},
            ldflags=(f"-X main.Version={VEGETA_VERSION}", "-s -w"),
            bench_only=True,
        ),
        InModule(
            name="traefik",
            module="github.com/traefik/traefik/v3",
            version=TRAEFIK_VERSION,
            packages={"traefik": "./cmd/traefik"},
            ldflags=(f"-X github.com/traefik/traefik/v3/pkg/version.Version={TRAEFIK_VERSION}", "-s -w"),
        ),
        Files(
            name="gateway-api",
            module="sigs.k8s.io/gateway-api",
            version=GATEWAY_API_VERSION,
            folder="config/crd/standard",
            pattern="*.yaml",
        ),
        Installed(
            name="prometheus",
            version=PROMETHEUS_VERSION,
            packages={"prometheus": "github.com/prometheus/prometheus/cmd/prometheus"},
            ldflags=_prometheus_ldflags(PROMETHEUS_VERSION),
            tags=("remove_all_sd",),  # static targets only: no cloud SDKs for service discovery to compile
        ),
        Installed(
            name="metrics-server",
            version=METRICS_SERVER_VERSION,
            packages={"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
            # kwokctl reads `metrics-server --version` (client-go's gitVersion) to choose its flags
            ldflags=(f"-X k8s.io/client-go/pkg/version.gitVersion={METRICS_SERVER_VERSION}", "-s -w"),
        ),
        Files(
            name="metrics-server-manifests",
            module="sigs.k8s.io/metrics-server",
            version=METRICS_SERVER_VERSION,
            folder="manifests/base",  # a kustomization: kwokctl keeps its APIService and Service
            pattern="*.yaml",
        ),
    ]


def test_targets() -> list[Target]:
    """What `make test` needs (the benchmark's own tools are built when a benchmark asks)."""
    return [t for t in targets() if not (isinstance(t, Installed) and t.bench_only)]


def log(message: str) -> None:
    print(f"[toolchain {time.strftime('%H:%M:%S')}] {message}", flush=True)


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    env.setdefault("CGO_ENABLED", "0")
    env.setdefault("GOTOOLCHAIN", "local")
    return env


HEARTBEAT_SECONDS = 30.0  # a cold kube-apiserver build is minutes of silence from go: say it is alive


def run(cmd: list[str], cwd: Path | None = None) -> str:
    """Run a command, logging a line every HEARTBEAT_SECONDS while it runs; its stdout on success."""
    log("$ " + " ".join(cmd))
    started = time.monotonic()
    with subprocess.Popen(
        cmd, cwd=cwd, env=go_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        while True:
            try:
                out, err = proc.communicate(timeout=HEARTBEAT_SECONDS)
                break
            except subprocess.TimeoutExpired:  # retrying communicate() loses no output
                log(f"  still running: {' '.join(cmd[:2])} ... ({time.monotonic() - started:.0f}s)")
    if proc.returncode != 0:
        sys.stderr.write(out + err)
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return out


def local_replacements(gomod_text: str) -> list[str]:
    """Module paths that a go.mod replaces with a local folder (``=> ./x`` or ``=> ../x``)."""
    found: list[str] = []
    in_block = False
    for raw in gomod_text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if line.startswith("replace ("):
            in_block = True
            continue
        if in_block and line == ")":
            in_block = False
            continue
        body = line[len("replace ") :] if line.startswith("replace ") else (line if in_block else "")
        match = _REPLACE_RE.match(body)
        if match and "FORBIDDEN" not in match.group(2):
            found.append(match.group(1))
    return found


def wrapper_gomod(target: Wrapped, gomod_text: str) -> str:
    lines = ["module evolved.local/toolchain-wrapper", "", "go 1.24", ""]
    lines.append(f"require {target.module} {target.version}")
    lines.append("")
    for path in local_replacements(gomod_text):
        lines.append(f"replace {path} => {path} {target.staging_version}")
    return "\n".join(lines) + "\n"


def target_dir(name: str, version: str) -> Path:
    return bin_dir() / f"{name}-{version}"


def is_built(target: Target) -> bool:
    out = target_dir(target.name, target.version)
    return all((out / binary).is_file() for binary in target.packages) and (out / ".complete").exists()


def _download(module: str, version: str, cwd: Path) -> Path:
    """The module's folder in Go's module cache (read-only), downloaded when missing."""
    info = json.loads(run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=cwd))
    return Path(info["Dir"])


def build_wrapped(target: Wrapped) -> None:
    work = cache_dir() / "build" / f"{target.name}-{target.version}"
    work.mkdir(parents=True, exist_ok=True)
    log(f"{target.name} {target.version}: fetching module metadata")
    info = json.loads(run(["go", "mod", "download", "-json", f"{target.module}@{target.version}"], cwd=work))
    gomod_text = Path(info["GoMod"]).read_text()
    (work / "go.mod").write_text(wrapper_gomod(target, gomod_text))
    (work / "main.go").write_text("package main\n\nfunc main() {}\n")
    log(f"{target.name}: resolving dependencies ({len(local_replacements(gomod_text))} replaced modules)")
    run(["go", "get", *(f"{pkg}@{target.version}" for pkg in [target.module])], cwd=work)
    _go_build(target, work, "several minutes on 2 cores when cold")


def _go_build(target: Wrapped | InModule, cwd: Path, cold: str) -> None:
    """``go build`` each of the target's packages in ``cwd`` into its binary folder; mark it complete."""
    out = target_dir(target.name, target.version)
    out.mkdir(parents=True, exist_ok=True)
    for binary, package in target.packages.items():
        started = time.monotonic()
        log(f"{target.name}: compiling {binary} ({cold})")
        run(
            ["go", "build", "-trimpath", "-ldflags", " ".join(target.ldflags), "-o", str(out / binary), package],
            cwd=cwd,
        )
        log(f"{target.name}: {binary} built in {time.monotonic() - started:.0f}s")
    (out / ".complete").write_text(target.version + "\n")


def build_installed(target: Installed) -> None:
    out = target_dir(target.name, target.version)
    out.mkdir(parents=True, exist_ok=True)
    env_gobin = str(out)
    for binary, package in target.packages.items():
        started = time.monotonic()
        log(f"{target.name}: go install {package}@{target.version}")
        tags = ["-tags", ",".join(target.tags)] if target.tags else []
        cmd = ["go", "install", "-trimpath", *tags, "-ldflags", " ".join(target.ldflags), f"{package}@{target.version}"]
        log("$ " + " ".join(cmd))
        env = go_env()
        env["GOBIN"] = env_gobin
        env["GOFLAGS"] = ""
        proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"go install failed for {package}")
        log(f"{target.name}: {binary} built in {time.monotonic() - started:.0f}s")
    (out / ".complete").write_text(target.version + "\n")


def build_in_module(target: InModule) -> None:
    work = cache_dir() / "build" / f"{target.name}-{target.version}"
    work.mkdir(parents=True, exist_ok=True)
    log(f"{target.name} {target.version}: downloading the module")
    source = _download(target.module, target.version, work)
    tree = work / "src"
    if not (tree / ".copied").exists():  # Go's module cache is read-only: build in a writable copy
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(source, tree)
        subprocess.run(["chmod", "-R", "u+w", str(tree)], check=True)
        (tree / ".copied").write_text(target.version + "\n")
    _go_build(target, tree, "about 6 minutes on 2 cores when cold")


def copy_files(target: Files) -> None:
    out = target_dir(target.name, target.version)
    work = cache_dir() / "build" / f"{target.name}-{target.version}"
    work.mkdir(parents=True, exist_ok=True)
    log(f"{target.name} {target.version}: downloading the module")
    folder = _download(target.module, target.version, work) / target.folder
    found = sorted(folder.glob(target.pattern))
    if not found:
        raise SystemExit(f"{target.module}@{target.version} has no {target.folder}/{target.pattern}")
    out.mkdir(parents=True, exist_ok=True)
    for path in found:
        shutil.copyfile(path, out / path.name)
    log(f"{target.name}: copied {len(found)} files from {target.folder} to {out}")
    (out / ".complete").write_text(target.version + "\n")


def files(name: str) -> list[Path]:
    """The cached files of a Files target (e.g. the Gateway API CRDs), sorted by name."""
    for target in targets():
        if isinstance(target, Files) and target.name == name:
            return sorted(target_dir(target.name, target.version).glob(target.pattern))
    raise KeyError(name)


def binary(name: str) -> Path:
    """The path of a built binary, by its command name."""
    for target in targets():
        if name in target.packages:
            return target_dir(target.name, target.version) / name
    raise KeyError(name)


def ensure(names: list[str] | None = None) -> Path:
    if shutil.which("go") is None:
        raise SystemExit("go is not on PATH: install Go 1.24 or newer to build the control plane")
    unknown = sorted(set(names or []) - {t.name for t in targets()})
    if unknown:
        raise SystemExit(f"unknown target(s) {', '.join(unknown)}: choose from {', '.join(t.name for t in targets())}")
    for target in [t for t in targets() if t.name in names] if names else test_targets():
        if is_built(target):
            log(f"{target.name} {target.version}: cached in {target_dir(target.name, target.version)}")
            continue
        if isinstance(target, Wrapped):
            build_wrapped(target)
        elif isinstance(target, InModule):
            build_in_module(target)
        elif isinstance(target, Files):
            copy_files(target)
        else:
            build_installed(target)
    return bin_dir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="build only these (" + ", ".join(t.name for t in targets()) + ")")
    args = parser.parse_args(argv)
    started = time.monotonic()
    path = ensure(args.only or None)
    log(f"all binaries ready in {time.monotonic() - started:.0f}s")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
