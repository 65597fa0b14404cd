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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ApirecError

if TYPE_CHECKING:
    from .keys import KeySpec
    from .store import Store

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


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """An answer found under another file name or key: where it was read, and the keys its
    files are listed under in the store (so they count as used)."""

    where: str
    keys: tuple[str, ...]


def find_elsewhere(
    store: Store,
    keying: Keying,
    key: str,
    request: Mapping[str, Any] | None,
    test_id: str | None,
) -> tuple[Entry, Elsewhere] | None:
    """After ``<key>.json`` was not found: the answer under another file name for this key
    (llama-stack's ``models-<key>-<digest>.json``) or under one of the keying's aliases."""
    request = request or {}
    find = getattr(store, "other_names", None)
    for i, candidate in enumerate([key, *keying.aliases(request, test_id)]):
        if i and store.count(candidate):
            entry = store.read(candidate, 0)
            if entry is not None:
                return entry, Elsewhere(store.describe(candidate, 0), (candidate,))
        found: list[tuple[str, str, Entry]] = find(candidate) if find is not None else []
        chosen = keying.choose(request, [e for _, _, e in found]) if found else None
        if chosen is not None:
            used = [(n, p) for n, p, e in found if e is chosen] or [(n, p) for n, p, _ in found]
            return chosen, Elsewhere(" + ".join(p for _, p in used), tuple(n for n, _ in used))
    return None


def write_named(store: Store, name: str, entry: Entry) -> str:
    """Write ``entry`` as the file ``name``; the key the store lists it under."""
    write = getattr(store, "write_named", None)
    if write is None:
        raise ApirecError(
            f"{type(store).__name__} cannot store recordings under their own file names; "
            f"use the JSON store for this format"
        )
    listed: str = write(name, entry)
    return listed
