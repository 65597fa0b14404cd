"""Answers filed under other names: another format's file names and keys (see
:class:`apirec.keys.spec.Keying`), found after ``<key>.json`` was not, and written under the
format's own file names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apirec.errors import ApirecError
from apirec.gate.rules import NO_RULES, Rules
from apirec.keys.spec import Entry, Keying
from apirec.stores.json_store import Store


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """An answer found under another file name or key: where it was read, and the keys its
    files are listed under in the store (so they count as used); ``place``: the file and the
    name inside it, as the store's ``place`` says (compare reports)."""

    where: str
    keys: tuple[str, ...]
    place: tuple[str, str | None]


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
                where, place = store.describe(candidate, 0), store.place(candidate, 0)
                return entry, Elsewhere(where, (candidate,), place)
        found: list[tuple[str, str, Entry]] = find(candidate) if find is not None else []
        chosen = keying.choose(request, [e for _, _, e in found]) if found else None
        if chosen is not None:
            used = [(n, p) for n, p, e in found if e is chosen] or [(n, p) for n, p, _ in found]
            where = " + ".join(p for _, p in used)  # files of their own
            return chosen, Elsewhere(where, tuple(n for n, _ in used), (where, None))
    return None


def write_named(store: Store, name: str, entry: Entry, rules: Rules = NO_RULES) -> str:
    """Write ``entry`` as the file ``name``; the key the store lists it under."""
    write = getattr(store, "write_named", None)
    if write is None:
        raise ApirecError(
            f"{type(store).__name__} cannot store recordings under their own file names; "
            f"use the JSON store for this format"
        )
    listed: str = write(name, entry, rules=rules)
    return listed
