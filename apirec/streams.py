"""Streams: results that arrive chunk by chunk (DESIGN §5)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

_NOT_STREAMS = (str, bytes, bytearray, memoryview, list, tuple, dict, set, frozenset)


def is_stream(value: Any) -> bool:
    """True for generators, iterators and async iterators (openai's Stream and AsyncStream)."""
    if isinstance(value, _NOT_STREAMS):
        return False
    return isinstance(value, Iterator | AsyncIterator)
