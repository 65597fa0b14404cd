"""Answers a test left unplayed (DESIGN §13): stored for it, never replayed by this run.

An answer is unplayed when its recording belongs to one of the test ids asked about (its
``test_id``) and the run neither replayed nor recorded it: the tail of a sequence the code
under test now calls fewer times, or every answer of a call it no longer makes at all. Answers
with no test id (``shared=True``, model lists) are never judged: other tests may play them.

:func:`owned` reads a store once and files its answers by test id; :func:`unplayed` filters
that against what was used. ``Recording.unplayed()`` and the pytest plugin (which keeps one
:class:`Owned` per store for the session) both go through here.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass

from apirec.errors import ApirecError, called
from apirec.stores.entry_summary import function_of, test_id_of
from apirec.stores.json_store import Entry, JsonStore, Store


@dataclass(frozen=True, order=True)
class Unplayed:
    """One stored answer nothing played: ``function``, its ``key``, its place in the
    sequence (``slot``, from 0), the ``file`` it is in and the test it belongs to."""

    test_id: str
    function: str
    key: str
    slot: int
    file: str


# test id -> (function, key, slot, file) of each answer stored for it
Owned = dict[str, list[tuple[str, str, int, str]]]


def owned(
    store: Store,
    played: Container[tuple[str, int]] = (),
    of: Container[str] | None = None,
    hints: dict[str, str | None] | None = None,
) -> Owned:
    """Every answer in ``store`` that belongs to a test, by test id (reads each file once;
    a file that cannot be read is left to ``apirec verify``), less those in ``played``:
    played answers are never unplayed, so their files need no reading. With ``of``, only the
    tests it holds are asked about: a JSON file whose first field names another test is
    passed over unparsed (a run of a few tests in a large store; ``hints``: the owners
    already found, by file name)."""
    found: Owned = defaultdict(list)
    for key, slot, path in store.entries():
        if (key, slot) in played:
            continue
        if of is not None and isinstance(store, JsonStore):
            hint = store.owner_hint(key, slot, hints)
            if hint is not None and hint not in of:
                continue
        try:
            entry: Entry | None
            if isinstance(store, JsonStore):  # the test id and function are all it needs
                entry = store.read(key, slot, resolve_blobs=False)
            else:
                entry = store.read(key, slot)
        except ApirecError:
            continue
        owner = test_id_of(entry) if entry is not None else None
        if entry is None or owner is None:
            continue
        request = entry.get("request")
        function = function_of(request) if isinstance(request, dict) else "?"
        found[owner].append((function, key, slot, path))
    return found


def unplayed(
    index: Owned, test_ids: Iterable[str], used: Container[tuple[str, int]], store: Store
) -> list[Unplayed]:
    """The answers of ``test_ids`` in ``index`` that are not in ``used`` and still stored."""
    result = []
    for test_id in sorted(set(test_ids)):
        for function, key, slot, path in index.get(test_id, ()):
            if (key, slot) in used or not _still_there(store, key, slot, path):
                continue
            result.append(Unplayed(test_id, function, key, slot, path))
    return sorted(result)


def _still_there(store: Store, key: str, slot: int, path: str) -> bool:
    """``index`` may be older than the store (a record run since reset the key)."""
    if isinstance(store, JsonStore):
        return os.path.exists(path)
    try:
        return store.count(key) > slot
    except ApirecError:
        return True


def describe(items: list[Unplayed]) -> list[str]:
    """One line per function of each test: how many answers, and their files (the first
    three, then how many more: a JSON store has one file per key)."""
    by_function: dict[tuple[str, str], list[Unplayed]] = defaultdict(list)
    for item in items:
        by_function[(item.test_id, item.function)].append(item)
    lines = []
    for (test_id, function), group in sorted(by_function.items()):
        n = len(group)
        slots = ", ".join(f"{u.key}#{u.slot}" for u in group[:3]) + (", ..." if n > 3 else "")
        files = list(dict.fromkeys(u.file for u in group))
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        lines.append(
            f"{test_id}: {n} {'answer' if n == 1 else 'answers'} of {called(function)} "
            f"unplayed ({slots}; {shown})"
        )
    return lines
