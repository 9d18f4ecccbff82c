"""`make bench`: the runtime, router and operator benchmarks, one after the other (see docs/benchmarks.md)."""

from __future__ import annotations

import sys

from bench import operator_scale, router, runtime_tier1


def main() -> int:
    runtime_tier1.main([])
    router.main([])
    return operator_scale.main(["--sizes", "1", "100", "1000"])


if __name__ == "__main__":
    sys.exit(main())
