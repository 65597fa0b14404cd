"""Which test and function each key of a store belongs to: read once per store, on a miss.

A miss asks questions about what else is stored: the recordings of a renamed test
(:mod:`apirec.record.renames`), recordings of the same test made under older key rules
(:mod:`apirec.record.key_rules`), whether the test has any stored call of the function (a
changed call, not a new one). The first question reads the first answer of every key once;
the answers are kept (keys moved by ``--apirec-rekey`` are updated here), never on the path
of a call that replays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from apirec.errors import ApirecError
from apirec.stores.entry_summary import function_of, test_id_of
from apirec.stores.json_store import Store

# (test id or None for a shared recording, function) of a key's first answer
Owner = tuple[str | None, str]


class StoreIndex:
    """``{key: (test id, function)}`` per store location, read on first use."""

    def __init__(self) -> None:
        self._stores: dict[str, dict[str, Owner]] = {}
        self._lock = threading.Lock()

    def of(self, store: Store) -> dict[str, Owner]:
        """The index of ``store`` (read now if it was not yet); a live view, not a copy."""
        with self._lock:
            index = self._stores.get(store.location)
            if index is None:
                index = self._stores[store.location] = _read(store)
            return index

    def keys_of(self, store: Store, test_id: str | None, function: str) -> list[str]:
        """The keys of ``function`` recorded by ``test_id`` (None: shared ones), sorted."""
        owner = (test_id, function)
        return sorted(key for key, found in self.of(store).items() if found == owner)

    def has_call(self, store: Store, test_id: str | None, function: str) -> bool:
        """Whether ``test_id`` (None: shared recordings) has a stored call of ``function``."""
        owner = (test_id, function)
        return any(found == owner for found in self.of(store).values())

    def moved(
        self, store: Store, old_keys: Iterable[str], key: str, test_id: str | None, function: str
    ) -> None:
        """The answers of ``old_keys`` now live under ``key``."""
        index = self.of(store)
        with self._lock:
            for old in old_keys:
                index.pop(old, None)
            index[key] = (test_id, function)


def _read(store: Store) -> dict[str, Owner]:
    index: dict[str, Owner] = {}
    try:
        listed = list(store.entries())
    except OSError:
        return index
    for key, slot, _ in listed:
        if slot:
            continue  # every answer of a key belongs to the same call
        try:
            entry = store.read(key, slot, resolve_blobs=False)  # the request is enough
        except (ApirecError, OSError):
            continue  # a broken file gets its own error when it is asked for
        request = entry.get("request") if entry else None
        if entry is not None and isinstance(request, dict):
            index[key] = (test_id_of(entry), function_of(request))
    return index
