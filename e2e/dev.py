"""`make dev`: bring the local control plane up and show what runs on it."""

from __future__ import annotations

import subprocess
import sys

from e2e import cluster


def main() -> int:
    kubeconfig = cluster.up()
    print(f"\n$ kubectl --kubeconfig {kubeconfig} get nodes", flush=True)
    subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "nodes"], check=True)
    print(f"\nexport KUBECONFIG={kubeconfig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
