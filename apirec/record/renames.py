"""Renamed tests: the recordings of a test that is gone, found for the test that replaced it.

Keys are scoped by test id, so renaming a test (or its file, or its class) turns every one of
its recordings into a miss. A call with no stored answer is looked for among the recordings
of tests that are gone (the pytest plugin knows: not collected by a run that would have
collected them): the call's key computed with the old test id names the old file exactly.
With ``rekey``, when exactly one gone test matches, its answers for that call (the whole
sequence ``<key>.json``, ``<key>.1.json``...) move to the new key and test id and replay;
when several match, nothing is guessed: the miss lists them.

Looked for only when a key has no stored answer, and only when a :class:`Renames` is given
(``settings.extra["renames"]``, set by the plugin): never on the path of a call that replays.
The first search reads each recording's test id once per store; what it learns is kept for
the session (files of gone tests only ever go away, by the moves made here).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apirec.errors import ApirecError
from apirec.keys.spec import compute_key
from apirec.stores.entry_summary import test_id_of
from apirec.stores.json_store import Store


@dataclass(frozen=True)
class Match:
    """The recordings of a gone test that answer a call: its ``key`` and their files."""

    old_test: str
    key: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Move:
    """One recording file moved from a gone test to the test that replaced it."""

    old_test: str
    new_test: str
    old_file: str
    new_file: str


@dataclass
class Renames:
    """What one session knows about renamed tests, and what it moved.

    ``gone(test_id)`` says whether a test id no longer names a test; ``rekey`` moves matching
    recordings; ``hint`` ends a miss that found one (how to move them); ``moves`` and
    ``recorded_again`` are the session's books (lists the plugin may share).
    """

    gone: Callable[[str], bool]
    rekey: bool = False
    hint: str = ""
    moves: list[Move] = field(default_factory=list)
    # (old test, new test) of calls recorded again in record-if-missing mode without rekey
    recorded_again: list[tuple[str, str]] = field(default_factory=list)
    _owners: dict[str, dict[str, str]] = field(default_factory=dict)
    _gone: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def find(
        self, store: Store, function: str, arguments: Mapping[str, Any], test_id: str
    ) -> list[Match]:
        """The gone tests whose recordings answer this call (``arguments``: as keyed)."""
        with self._lock:
            return self._find(store, function, arguments, test_id)

    def _find(
        self, store: Store, function: str, arguments: Mapping[str, Any], test_id: str
    ) -> list[Match]:
        owners = self._owners_of(store)
        matches = []
        for owner in sorted(set(owners.values())):
            if owner == test_id or not self._is_gone(owner):
                continue
            key = compute_key(function, arguments, owner)
            if owners.get(key) != owner:
                continue
            count = store.count(key)
            if count:
                files = tuple(store.describe(key, i) for i in range(count))
                matches.append(Match(owner, key, files))
        return matches

    def move(
        self,
        store: Store,
        function: str,
        arguments: Mapping[str, Any],
        key: str,
        test_id: str,
    ) -> list[Match]:
        """With ``rekey``: move the answers of the one gone test that matches to ``key`` of
        ``test_id``. Returns the matches (moved when exactly one)."""
        with self._lock:
            matches = self._find(store, function, arguments, test_id)
            if len(matches) == 1 and self.rekey:
                self._move(store, matches[0], key, test_id)
            return matches

    def _move(self, store: Store, match: Match, key: str, test_id: str) -> None:
        moved = []
        # every answer is written under its new name before any old one goes: a crash in
        # between leaves a copy, never a loss
        for index in range(store.count(match.key)):
            entry = store.read(match.key, index)
            if entry is None:
                break
            entry = {**entry, "test_id": test_id}
            request = entry.get("request")
            if isinstance(request, dict) and "key" in request:
                entry["request"] = {**request, "key": key}
            slot = store.write(key, entry, start=index)
            moved.append((store.describe(match.key, index), store.describe(key, slot)))
        store.reset(match.key, older_than=math.inf)
        owners = self._owners.get(store.location)
        if owners is not None:
            owners.pop(match.key, None)
            owners[key] = test_id
        self.moves.extend(Move(match.old_test, test_id, old, new) for old, new in moved)

    def _is_gone(self, test_id: str) -> bool:
        gone = self._gone.get(test_id)
        if gone is None:
            gone = self._gone[test_id] = bool(self.gone(test_id))
        return gone

    def _owners_of(self, store: Store) -> dict[str, str]:
        """{key: test id} of the first answer of every key of the store owned by a test."""
        owners = self._owners.get(store.location)
        if owners is None:
            owners = {}
            for key, index, _ in store.entries():
                if index:
                    continue
                try:
                    entry = store.read(key, index)
                except ApirecError:
                    continue  # a broken file gets its own error when it is asked for
                owner = test_id_of(entry) if entry else None
                if owner is not None:
                    owners[key] = owner
            self._owners[store.location] = owners
        return owners


def miss_lines(matches: list[Match], *, rekey: bool, hint: str) -> list[str]:
    """What a miss says about the recordings of gone tests that match its call."""
    if not matches:
        return []
    if len(matches) == 1:
        (match,) = matches
        lines = [
            f"This call matches the recording of {match.old_test}, a test this run did not "
            f"collect (renamed?):",
            *(f"    {file}" for file in match.files),
        ]
        if hint:
            lines.append(f"  {hint}")
        return lines
    lines = [f"This call matches the recordings of {len(matches)} tests this run did not collect:"]
    for match in matches:
        lines.append(f"    {match.old_test}: {', '.join(match.files)}")
    lines.append(
        "  not moved: apirec cannot tell which one this test replaces; move the files of "
        "the right one by hand (file name = the key above, and its test_id), or record again"
        if rekey
        else "  apirec cannot tell which one this test replaces, so --apirec-rekey will not "
        "move them: move the files of the right one by hand, or record again"
    )
    return lines
