"""`make bench`: the runtime and operator benchmarks, one after the other (see docs/benchmarks.md)."""

from __future__ import annotations

import sys

from bench import operator_scale, runtime_tier1


def main() -> int:
    runtime_tier1.main([])
    return operator_scale.main(["--sizes", "1", "100", "1000"])


if __name__ == "__main__":
    sys.exit(main())
