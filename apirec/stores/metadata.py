"""When a recording was made and with which package versions (DESIGN §11).

Every answer apirec stores carries two top-level keys besides ``request`` and ``response``::

    "recorded_at": "2026-12-02T23:15:04Z",
    "versions": {"apirec": "0.1.0", "openai": "3.57.0"}

``recorded_at`` is UTC, to the second. ``versions`` holds apirec's version and, for each
installed package whose types the answer holds (its ``__type__`` names and the class of a
recorded exception), that package's distribution version, keyed by the package's import name
(``openai``; ``google.genai`` for a package inside a namespace shared by several
distributions). Types of the standard library and of code that is not installed (the tests'
own modules) name no version.

Recordings written before these keys existed, and other recorders' files, have neither: their
age is unknown (:func:`recorded_at` gives None) and their versions are ``{}``. A key that is
present but malformed is a :class:`~apirec.StoreError` naming the file (``check``).

A recording ``--apirec-rekey`` moved to a new key (a renamed test, changed key rules) also
carries ``"moved_at"``, when it got that key, beside ``recorded_at`` (which stays: the answer
is as old as it was). ``apirec prune --usage`` keeps a recording moved after a report began.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import time
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from apirec.errors import StoreError

# the keys of a typed value, from the pure gate: reading needs no codec (pydantic)
from apirec.gate.placeholders import TYPE

RECORDED_AT = "recorded_at"
MOVED_AT = "moved_at"  # when --apirec-rekey gave it its key (UTC, to the second), if it did
VERSIONS = "versions"
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})


def now_text() -> str:
    """The current UTC time as stored: ``2026-12-02T23:15:04Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def stamp(response: Mapping[str, Any]) -> dict[str, Any]:
    """The two keys a new recording of ``response`` (an encoded answer) carries."""
    return {RECORDED_AT: now_text(), VERSIONS: versions_of(response)}


def versions_of(response: Mapping[str, Any]) -> dict[str, str]:
    """``{"apirec": ..., package: version, ...}`` for the types an encoded answer holds."""
    # the running apirec's version; read at run time, as this module sits below the package
    found = {"apirec": str(getattr(sys.modules.get("apirec"), "__version__", "unknown"))}
    names = type_names(response)
    data = response.get("exception_data")
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        names.add(data["type"])
    for name in sorted(names):
        package = package_of(name)
        if package is not None:
            found[package[0]] = package[1]
    return found


def type_names(value: Any) -> set[str]:
    """Every ``__type__`` name inside encoded data (iterative: deep data has no depth limit)."""
    names: set[str] = set()
    stack = [value]
    pop, push, add = stack.pop, stack.extend, names.add
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            name = item.get(TYPE)
            if type(name) is str:
                add(name)
            push([v for v in item.values() if type(v) is dict or type(v) is list])
        elif kind is list:
            push([v for v in item if type(v) is dict or type(v) is list])
    return names


@functools.cache
def package_of(type_name: str) -> tuple[str, str] | None:
    """``(import name, version)`` of the installed distribution that provides ``type_name``'s
    module, or None (the standard library, apirec, code that is not installed).

    Computed once per type name: recording pays a dictionary lookup per type after the first.
    """
    top, _, rest = type_name.partition(".")
    if not rest or top in sys.stdlib_module_names or top == "apirec":
        return None
    module = sys.modules.get(top)
    if module is None or not _installed(module):
        return None  # the value was encoded from a live object, so its package is imported
    from importlib import metadata  # here: reading recordings (apirec ls) never needs it

    try:  # the usual case, cheap: the distribution is named like the package (openai, mcp)
        return top, metadata.version(top)
    except metadata.PackageNotFoundError:
        pass
    distributions = _distributions().get(top, [])
    if len(distributions) == 1:
        return top, metadata.version(distributions[0])
    # a namespace shared by several distributions (google-genai, google-auth): the one with
    # files under the subpackage names it
    sub = ".".join(type_name.split(".")[:2])
    prefix = sub.replace(".", "/") + "/"
    for name in distributions:
        if any(str(f).startswith(prefix) for f in metadata.files(name) or ()):
            return sub, metadata.version(name)
    return None


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    # scans every installed distribution (a few hundred ms): only for packages whose
    # distribution is named otherwise (tavily -> tavily-python, google -> google-genai)
    from importlib import metadata

    return metadata.packages_distributions()


def _installed(module: Any) -> bool:
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", ())), None)
    return where is not None and not _INSTALLED_DIRS.isdisjoint(PurePath(where).parts)


def check(entry: Mapping[str, Any], where: str) -> None:
    """Fail with the file and the key when ``recorded_at`` or ``versions`` is malformed."""
    if RECORDED_AT in entry:
        recorded_at(entry, where)
    versions = entry.get(VERSIONS)
    if VERSIONS in entry and not (
        isinstance(versions, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in versions.items())
    ):
        raise StoreError(
            f"{where}: 'versions' must be an object of package names to version strings",
            path=where,
        )


def recorded_at(entry: Mapping[str, Any], where: str = "") -> dt.datetime | None:
    """When the recording was made (aware, UTC), or None when it does not say."""
    text = entry.get(RECORDED_AT)
    if text is None:
        return None
    try:
        if not isinstance(text, str):
            raise TypeError(text)
        when = dt.datetime.fromisoformat(text)
        if when.tzinfo is None:
            raise ValueError(text)
    except (TypeError, ValueError):
        raise StoreError(
            f"{where}: 'recorded_at' must be an ISO 8601 time with its time zone, such as "
            f"{now_text()}, found {text!r}",
            path=where,
        ) from None
    return when.astimezone(dt.UTC)


def versions(entry: Mapping[str, Any]) -> dict[str, str]:
    """The recorded versions; ``{}`` for a recording that does not say."""
    found = entry.get(VERSIONS)
    return dict(found) if isinstance(found, dict) else {}


def age(entry: Mapping[str, Any], now: dt.datetime, where: str = "") -> dt.timedelta | None:
    """How old the recording is at ``now``, or None when its age is unknown."""
    when = recorded_at(entry, where)
    return None if when is None else now - when


def format_age(age: dt.timedelta) -> str:
    """``45d 3h``, ``3h 10m``, ``90s``: the largest unit and the next one, the input syntax of
    max_age."""
    seconds = int(age.total_seconds())
    if seconds < 0:
        return "in the future"
    for n, (unit, size) in enumerate(_UNITS):
        if seconds >= size or unit == "s":
            text = f"{seconds // size}{unit}"
            if n + 1 < len(_UNITS):
                next_unit, next_size = _UNITS[n + 1]
                rest = seconds % size // next_size
                text += f" {rest}{next_unit}" if rest else ""
            return text
    raise AssertionError("unreachable")
