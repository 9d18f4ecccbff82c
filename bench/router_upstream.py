"""The router benchmark's fake upstream: one variant's worker, as small and fast as a Python server gets.

A raw ASGI app (no framework) on uvicorn with uvloop and httptools, keep-alive 120 s, no access
log, listening on 127.0.0.1 only. It reads each request's body and answers every request with the
same small ``chat.completion`` (content-length framed), whose text names the variant, so the
benchmark can tell which variant answered and that a proxy passed the answer on unchanged:
:func:`answer` is the exact body.

    python bench/router_upstream.py --port 8001 --name a
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

KEEP_ALIVE_S = 120

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def answer(name: str) -> bytes:
    """The body that the upstream of variant ``name`` sends for every request."""
    completion = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1764979200,
        "model": "bench",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"variant {name}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }
    return json.dumps(completion, separators=(",", ":")).encode()


def app_for(name: str) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    body = answer(name)
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }
    end = {"type": "http.response.body", "body": body}

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # the whole request body, as a real worker reads it
            message = await receive()
            more = bool(message.get("more_body")) and message["type"] == "http.request"
        await send(start)
        await send(end)

    return app


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True, help="the variant this upstream plays (named in its answer)")
    args = parser.parse_args(argv)
    uvicorn.run(
        app_for(args.name), host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_S, access_log=False, log_level="warning", server_header=False,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
