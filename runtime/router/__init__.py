"""``evolved-runtime router``: the pipeline's entry point (docs/runtime.md, "The router").

Modules: ``table`` (what it routes by), ``pick`` (weights, sticky keys by consistent hashing),
``outlier`` and ``endpoints`` (round robin with passive ejection), ``shadow`` (mirroring and
verdict comparison), ``metrics``, ``upstream`` (worker connections and pools), ``proxy`` (the
HTTP/1.1 reverse proxy), ``responses`` and ``admin`` (its own answers and paths), ``flags`` and
``cluster_table`` (a table from flags, or from the API's objects: pure), ``kube`` (the watches:
the only Kubernetes I/O), ``server`` (the event loop).
"""
