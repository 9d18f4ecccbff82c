"""A bounded load for the router's tests: ``count`` requests over ``concurrency`` connections."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Outcome:
    variants: Counter[str] = field(default_factory=Counter)  # answers by x-evolved-variant
    errors: list[str] = field(default_factory=list)  # anything but a 200 (or a failed connection)
    done: int = 0


async def hammer(
    url: str,
    count: int,
    concurrency: int = 16,
    body: bytes | None = None,
    headers: Callable[[int], dict[str, str]] | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Send ``count`` requests (POST when ``body`` is given, else GET); every answer is read whole."""
    outcome = outcome or Outcome()
    numbers = iter(range(count))
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:

        async def client() -> None:
            for i in numbers:
                extra = headers(i) if headers else {}
                try:
                    if body is None:
                        response = await session.get(url, headers=extra)
                    else:
                        response = await session.post(
                            url, data=body, headers={"content-type": "application/json", **extra}
                        )
                    async with response:
                        await response.read()
                        if response.status != 200:
                            outcome.errors.append(f"{response.status}: {(await response.text())[:200]}")
                        outcome.variants[response.headers.get("x-evolved-variant", "?")] += 1
                except aiohttp.ClientError as exc:
                    outcome.errors.append(repr(exc))
                outcome.done += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return outcome
