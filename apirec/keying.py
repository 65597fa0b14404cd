"""A seam for other recorders' formats: how one wrapped function's calls are keyed and filed.

By default apirec keys a call with :class:`~apirec.keys.KeySpec` and stores
``{"function", "args", "key"}`` as its request. A :class:`Keying` passed to ``wrap()`` (or
``Patch``/``rec.patch(..., keying=...)``) replaces that for one function: it computes the key
and the stored request itself, may rewrite the response before it is written and choose the
file name, names other keys the call may be stored under, picks the answer when several files
were found for one key under other names, and may rebuild recorded exceptions in its own format.
Compatibility code lives under ``apirec/integrations/``; the recorder only calls these methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .keys import KeySpec

Entry = dict[str, Any]


class Keying(Protocol):
    """How the calls of one wrapped function are keyed, stored and found."""

    def key(
        self,
        spec: KeySpec,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        test_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        """``(key, request)``: the call's key and the JSON-ready request stored with it."""
        ...

    def stored(
        self, key: str, request: Mapping[str, Any], response: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """The response as written, and the file name to write it under (None: the default)."""
        ...

    def aliases(self, request: Mapping[str, Any], test_id: str | None) -> list[str]:
        """Other keys the same call may be stored under (another version's formula), in order."""
        ...

    def choose(self, request: Mapping[str, Any], entries: list[Entry]) -> Entry | None:
        """The answer among the files found for a key under other names, or None."""
        ...

    def error(self, request: Mapping[str, Any], data: Mapping[str, Any]) -> BaseException | None:
        """A recorded exception in this format rebuilt, or None to use apirec's own rules."""
        ...
