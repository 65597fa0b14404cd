"""Renamed tests: the recordings of a test that is gone, found for the test that replaced it.

Keys are scoped by test id, so renaming a test (or its file, or its class) turns every one of
its recordings into a miss. A call with no stored answer is looked for among the recordings
of tests that are gone (the pytest plugin knows: not collected by a run that would have
collected them): the call's key computed with the old test id names the old file exactly.
With ``rekey``, when exactly one gone test matches, its answers for that call (the whole
sequence ``<key>.json``, ``<key>.1.json``...) move to the new key and test id and replay;
when several match, nothing is guessed: the miss lists them.

The same session object moves the recordings of a test made under older key rules
(:mod:`apirec.record.key_rules`): the same moves, from one test to itself.

Looked for only when a key has no stored answer, and only when a :class:`Renames` is given
(``settings.extra["renames"]``, set by the plugin): never on the path of a call that replays.
The first search reads each recording's test id once per store; what it learns is kept for
the session (:class:`~apirec.record.store_index.StoreIndex`; files of gone tests only ever go
away, by the moves made here).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apirec.codec.envelope import encode
from apirec.gate.rules import NO_RULES, Rules
from apirec.keys.spec import KeySpec, compute_key
from apirec.record import key_rules
from apirec.record.key_rules import OlderRules
from apirec.record.store_index import StoreIndex
from apirec.stores.json_store import Entry, Store
from apirec.stores.metadata import MOVED_AT, RECORDED_AT, now_text

RENAMED = "renamed"
KEY_RULES = "key rules"


@dataclass(frozen=True)
class Match:
    """The recordings of a gone test that answer a call: its ``key`` and their files."""

    old_test: str
    key: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Move:
    """One recording file moved from a gone test to the test that replaced it, or (``reason``
    ``"key rules"``) from its key under older key rules to its key today."""

    old_test: str
    new_test: str
    old_file: str
    new_file: str
    reason: str = RENAMED


@dataclass
class Renames:
    """What one session knows about renamed tests (and recordings made under older key
    rules), and what it moved.

    ``gone(test_id)`` says whether a test id no longer names a test; ``rekey`` moves matching
    recordings; ``index`` is what the stores hold (read on the first miss); ``hint`` ends a
    miss that found one (how to move them); ``moves`` and ``recorded_again`` are the
    session's books (lists the plugin may share).
    """

    gone: Callable[[str], bool]
    rekey: bool = False
    hint: str = ""
    moves: list[Move] = field(default_factory=list)
    # (old test, new test) of calls recorded again in record-if-missing mode without rekey
    recorded_again: list[tuple[str, str]] = field(default_factory=list)
    index: StoreIndex = field(default_factory=StoreIndex)
    _gone: dict[str, bool] = field(default_factory=dict)
    _today: key_rules.Today = field(default_factory=dict)  # stored keys keyed again
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
        index = self.index.of(store)
        matches = []
        for owner in sorted({owner for owner, _ in index.values() if owner is not None}):
            if owner == test_id or not self._is_gone(owner):
                continue
            key = compute_key(function, arguments, owner)
            found = index.get(key)
            if found is None or found[0] != owner:
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
                (match,) = matches
                answers = [(match.key, i) for i in range(store.count(match.key))]
                self._move(store, answers, key, match.old_test, test_id, function)
            return matches

    def find_older(
        self, store: Store, spec: KeySpec, key: str, test_id: str | None, rules: Rules = NO_RULES
    ) -> OlderRules | None:
        """The recordings of ``spec``'s function and ``test_id`` (None: shared ones) made
        under older key rules that give ``key`` today (:mod:`apirec.record.key_rules`)."""
        with self._lock:
            return self._find_older(store, spec, key, test_id, rules)

    def _find_older(
        self, store: Store, spec: KeySpec, key: str, test_id: str | None, rules: Rules
    ) -> OlderRules | None:
        candidates = self.index.keys_of(store, test_id, spec.name)
        return key_rules.find(store, spec, candidates, key, test_id, self._today, rules)

    def move_older(
        self,
        store: Store,
        spec: KeySpec,
        key: str,
        test_id: str | None,
        arguments: Mapping[str, Any],
        rules: Rules = NO_RULES,
    ) -> OlderRules | None:
        """With ``rekey``: move the recordings :meth:`find_older` finds to ``key``, in the
        order they were recorded, storing ``arguments`` (today's stored view) as their
        arguments. Returns what was found (moved when its order is known)."""
        with self._lock:
            found = self._find_older(store, spec, key, test_id, rules)
            if store.count(key):
                return found  # another process (an xdist worker sharing them) moved them
            if found is not None and found.order is not None and self.rekey:
                args = encode(dict(arguments))
                self._move(
                    store, list(found.order), key, test_id, test_id, spec.name, args, KEY_RULES
                )
            return found

    def has_call(self, store: Store, test_id: str | None, function: str) -> bool:
        """Whether ``test_id`` (None: shared recordings) has a stored call of ``function``."""
        return self.index.has_call(store, test_id, function)

    def _move(
        self,
        store: Store,
        answers: list[tuple[str, int]],
        key: str,
        old_test: str | None,
        test_id: str | None,
        function: str,
        args: Any = None,
        reason: str = RENAMED,
    ) -> None:
        """Move ``answers`` (old key, index), in this order, to the sequence of ``key``."""
        moved: list[tuple[str, str]] = []
        # every answer is written under its new name before any old one goes: a crash in
        # between leaves a copy, never a loss
        for old_key, index in answers:
            # payloads kept apart stay references: a move uploads nothing (the objects are
            # where they were; a read-only remote, a fork's pull request, serves a rekey)
            entry = store.read(old_key, index, resolve_blobs=False)
            if entry is None:
                continue  # gone since it was counted
            entry = _rekeyed(entry, key, test_id, args)
            slot = store.write(key, entry, start=len(moved))
            moved.append((store.describe(old_key, index), store.describe(key, slot)))
        old_keys = sorted({old_key for old_key, _ in answers})
        for old_key in old_keys:
            store.reset(old_key, older_than=math.inf)
        self.index.moved(store, old_keys, key, test_id, function)
        self.moves.extend(
            Move(old_test or "", test_id or "", old, new, reason) for old, new in moved
        )

    def _is_gone(self, test_id: str) -> bool:
        gone = self._gone.get(test_id)
        if gone is None:
            gone = self._gone[test_id] = bool(self.gone(test_id))
        return gone


def _rekeyed(entry: Entry, key: str, test_id: str | None, args: Any) -> Entry:
    # when it got this key, next to recorded_at (which stays: its age, its order in a merge):
    # a usage report written before the move never saw this key, so prune keeps it
    items = [(k, v) for k, v in {**entry, "test_id": test_id}.items() if k != MOVED_AT]
    at = next((i + 1 for i, (k, _) in enumerate(items) if k == RECORDED_AT), len(items))
    items.insert(at, (MOVED_AT, now_text()))
    entry = dict(items)
    request = entry.get("request")
    if isinstance(request, dict) and "key" in request:
        request = {**request, "key": key}
        if args is not None and "args" in request:
            request["args"] = args
        entry["request"] = request
    return entry


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
