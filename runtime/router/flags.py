"""The router's table from command-line flags (local runs and tests): pure, with clear errors.

``--variant NAME=URL`` is repeated per endpoint (the same name again adds an endpoint to that
variant; the first appearance of a name fixes the variant order); ``--weight NAME=N`` per
variant. Weights, when given, must sum to 100; a variant without a weight gets 0. With no weight
at all the first variant takes 100, like the stable variant of a pipeline without weights.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from evolved_runtime.router.table import Address, Mirror, Sticky, Table, Variant, check_weights

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a Kubernetes DNS label, like variant names
HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token


class FlagError(ValueError):
    """A flag that cannot be used; the message says which and why."""


def _pair(flag: str, text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise FlagError(f"{flag} {text!r}: expected NAME=VALUE")
    if not NAME.match(name):
        raise FlagError(f"{flag} {text!r}: {name!r} is not a valid variant name (lower-case letters, digits, '-')")
    return name, value


def _int(flag: str, text: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FlagError(f"{flag} {text!r}: {value!r} is not an integer") from None
    if not low <= number <= high:
        raise FlagError(f"{flag} {text!r}: must be {low}-{high}")
    return number


def endpoint(text: str) -> Address:
    """``http://host:port`` -> (host, port)."""
    parts = urlsplit(text)
    if parts.scheme != "http" or not parts.hostname:
        raise FlagError(f"--variant URL {text!r}: expected http://HOST:PORT (plain HTTP to a worker)")
    if parts.path not in ("", "/") or parts.query:
        raise FlagError(f"--variant URL {text!r}: give the worker's root URL, without a path")
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise FlagError(f"--variant URL {text!r}: {exc}") from None
    return parts.hostname, port


def table_from_flags(
    variants: list[str],
    weights: list[str] | None = None,
    sticky_header: str | None = None,
    sticky_openai_user: bool = False,
    mirror: str | None = None,
    now: float = 0.0,
) -> Table:
    if not variants:
        raise FlagError("give at least one --variant NAME=URL")
    endpoints: dict[str, list[Address]] = {}
    for text in variants:
        name, url = _pair("--variant", text)
        address = endpoint(url)
        listed = endpoints.setdefault(name, [])
        if address in listed:
            raise FlagError(f"--variant {text!r}: endpoint given twice for {name}")
        listed.append(address)
    names = list(endpoints)
    given: dict[str, int] = {}
    for text in weights or []:
        name, value = _pair("--weight", text)
        if name in given:
            raise FlagError(f"--weight {text!r}: {name} has a weight already")
        given[name] = _int("--weight", text, value, 0, 100)
    problem = check_weights(given, names)
    if problem:
        raise FlagError(f"--weight: {problem}")
    if not given:
        given = {names[0]: 100}
    mirrored: Mirror | None = None
    if mirror is not None:
        name, value = _pair("--mirror", mirror)
        if name not in endpoints:
            raise FlagError(f"--mirror {mirror!r}: no --variant named {name}")
        mirrored = Mirror(name, _int("--mirror", mirror, value, 1, 100))
    if sticky_header is not None and not HEADER.match(sticky_header):
        raise FlagError(f"--sticky-header {sticky_header!r}: not a valid HTTP header name")
    sticky = Sticky(sticky_header.lower() if sticky_header else None, sticky_openai_user)
    table = tuple(Variant(n, given.get(n, 0), tuple(endpoints[n])) for n in names)
    return Table(table, sticky, mirrored, "flags", now)
