"""Marks left in canonical values, and the key and stored views that resolve them.

A redacted value is dropped from the key view and stored as ``"<redacted>"``; an omitted one
(an ignored entry, an SDK's not-given sentinel) never enters either view; an int too long for
Python's int-to-text limit (4,300 digits) is keyed by its hex digits and stored as
``"int:0x..."`` (JSON could neither write nor read it back as a number).
"""

from __future__ import annotations

from typing import Any

import msgpack

# msgpack extension codes in key bytes: no canonical value packs to these
SURROGATES_EXT = 1
HUGE_INT_EXT = 2

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


class HugeInt:
    """An int beyond Python's int-to-text limit, as canonical values hold it."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def key_form(self) -> msgpack.ExtType:
        return msgpack.ExtType(HUGE_INT_EXT, hex(self.value).encode("ascii"))

    def stored_form(self) -> str:
        return f"int:{hex(self.value)}"


def without_redacted(value: Any) -> Any:
    """The key view: redacted entries removed."""
    if type(value) is dict:
        return {k: without_redacted(v) for k, v in value.items() if v is not _REDACTED}
    if type(value) is list:
        return [without_redacted(v) for v in value if v is not _REDACTED]
    if type(value) is HugeInt:
        return value.key_form()
    return value


def with_placeholders(value: Any) -> Any:
    """The stored view: redacted entries replaced by ``"<redacted>"``."""
    if value is _REDACTED:
        return REDACTED
    if type(value) is HugeInt:
        return value.stored_form()
    if type(value) is dict:
        return {k: with_placeholders(v) for k, v in value.items()}
    if type(value) is list:
        return [with_placeholders(v) for v in value]
    return value


def _contains_marks(value: Any) -> bool:
    """Whether the key and stored views of ``value`` differ from it (redacted, huge ints)."""
    if value is _REDACTED or type(value) is HugeInt:
        return True
    if type(value) is dict:
        return any(_contains_marks(v) for v in value.values())
    if type(value) is list:
        return any(_contains_marks(v) for v in value)
    return False
