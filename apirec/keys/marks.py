"""Marks left in canonical values, and the key and stored views that resolve them.

A redacted value is dropped from the key view and stored as ``"<redacted>"``; an omitted one
(an ignored entry, an SDK's not-given sentinel) never enters either view.
"""

from __future__ import annotations

from typing import Any

REDACTED = "<redacted>"


class _Redacted:
    """Marks a value removed for secrecy: dropped from the key, stored as ``"<redacted>"``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return REDACTED


_REDACTED = _Redacted()


class _Omitted:
    """Marks an ignored entry or an SDK's not-given sentinel: left out of both views."""

    __slots__ = ()


_OMITTED = _Omitted()


def without_redacted(value: Any) -> Any:
    """The key view: redacted entries removed."""
    if type(value) is dict:
        return {k: without_redacted(v) for k, v in value.items() if v is not _REDACTED}
    if type(value) is list:
        return [without_redacted(v) for v in value if v is not _REDACTED]
    return value


def with_placeholders(value: Any) -> Any:
    """The stored view: redacted entries replaced by ``"<redacted>"``."""
    if value is _REDACTED:
        return REDACTED
    if type(value) is dict:
        return {k: with_placeholders(v) for k, v in value.items()}
    if type(value) is list:
        return [with_placeholders(v) for v in value]
    return value


def _contains_redacted(value: Any) -> bool:
    if value is _REDACTED:
        return True
    if type(value) is dict:
        return any(_contains_redacted(v) for v in value.values())
    if type(value) is list:
        return any(_contains_redacted(v) for v in value)
    return False
