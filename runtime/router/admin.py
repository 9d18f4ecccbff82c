"""The router's own paths: ``GET /healthz``, ``GET /metrics``, ``GET /traffic``, ``PUT /traffic``.

``PUT /traffic`` with ``{"weights": {"stable": 80, "canary": 20}}`` sets new weights (variants
not named get 0; the sum must be 100). It is how weights change without a restart in flags
mode, and it is accepted only from a loopback address and only in flags mode: in a cluster the
weights are the pipeline's (``status.traffic``), and a local change would be overwritten.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from evolved_runtime.router.responses import error_response, json_response, response
from evolved_runtime.router.table import check_weights

if TYPE_CHECKING:
    from evolved_runtime.router.proxy import Request, Router

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


def iso(timestamp: float) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z") if timestamp else None


def traffic(router: Router) -> dict[str, Any]:
    """What the router routes by now, as ``GET /traffic`` shows it."""
    table, now = router.table, router.loop.time()
    return {
        "source": table.source,
        "updated_at": iso(table.updated_at),
        "weights": table.weights(),
        "variants": [
            {
                "name": v.name,
                "weight": v.weight,
                "endpoints": [
                    {"address": f"{h}:{p}", "state": router.endpoints.state((h, p), now)} for h, p in v.endpoints
                ],
            }
            for v in table.variants
        ],
        "sticky": {"header": table.sticky.header, "openAIUser": table.sticky.openai_user},
        "mirror": None if table.mirror is None else {"variant": table.mirror.variant, "percent": table.mirror.percent},
        "mirror_in_flight": router.mirror_in_flight,
    }


def _set_weights(router: Router, body: bytes, keep_alive: bool) -> bytes:
    try:
        document = orjson.loads(body)
        weights = document["weights"]
        if not isinstance(weights, dict) or not all(type(w) is int for w in weights.values()):  # not True/False
            raise TypeError
    except (orjson.JSONDecodeError, KeyError, TypeError):
        expected = 'expected {"weights": {"VARIANT": N, ...}} with integer weights'
        return error_response(400, "invalid_weights", expected, keep_alive)
    names = [v.name for v in router.table.variants]
    problem = check_weights(weights, names)
    if problem is None and not weights:
        problem = "give at least one weight"
    if problem:
        return error_response(400, "invalid_weights", problem, keep_alive)
    router.set_table(router.table.with_weights({n: weights.get(n, 0) for n in names}, time.time()))
    return json_response(200, traffic(router), keep_alive)


def answer(router: Router, request: Request, peer: str) -> bytes:
    path, method, keep_alive = request.path, request.method, request.keep_alive
    if path == b"/traffic" and method == b"PUT":
        if peer not in LOOPBACK:
            return error_response(403, "forbidden", "PUT /traffic is accepted from a loopback address only", keep_alive)
        if router.table.source != "flags":
            return error_response(409, "conflict", "weights come from the pipeline in Kubernetes mode", keep_alive)
        body = request.data[request.data.index(b"\r\n\r\n") + 4 :]
        return _set_weights(router, body, keep_alive)
    if method != b"GET":
        return error_response(405, "method_not_allowed", f"{path.decode()} answers GET", keep_alive)
    if path == b"/metrics":
        body, content_type = router.stats.render()
        return response(200, content_type.encode(), body, keep_alive)
    if path == b"/healthz":
        if not router.loaded:  # Kubernetes mode before the pipeline and its endpoints were read
            return error_response(
                503, "not_ready", "no table yet: waiting for the pipeline and its endpoints", keep_alive
            )
        return response(200, b"application/json", b'{"status":"ok"}', keep_alive)
    return json_response(200, traffic(router), keep_alive)
