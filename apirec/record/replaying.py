"""Replaying a stored answer: rebuilt as fresh objects, or raised, or streamed.

The first replay of an answer decodes it plainly (lending the cached payload: most answers
are replayed once); a later one decodes a pristine re-read by a plan made then and kept. The
part of :class:`~apirec.record.stored_answers.Answers` that turns a stored answer into what
the caller gets.
"""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable
from typing import Any

from apirec.codec.exception_data import raise_recorded, rebuild_error
from apirec.codec.replay_plans import FirstReplay, LazyPlans, Plan, decode_first, prepare
from apirec.errors import DecodeError, IncompleteRecording, RecordingNotFound
from apirec.record.calls import Call, Stats
from apirec.record.context import note_replay_error
from apirec.record.other_names import Elsewhere, find_elsewhere
from apirec.record.pacing import chunk_times
from apirec.record.replay_errors import check_stream_kind, format_error, incomplete
from apirec.record.settings import Settings
from apirec.stores.json_store import Entry, Store
from apirec.streams.replay import replay_stream

_UNSEEN: Any = object()  # no plan entry yet: the first replay of an answer


class Replaying:
    """The replaying half of :class:`~apirec.record.stored_answers.Answers` (its books are
    set up there)."""

    settings: Settings
    stats: Stats
    used: set[tuple[str, int]]
    journal: list[tuple[str, str, str]]
    _entries: dict[tuple[str, int], Entry]
    _found_at: dict[tuple[str, int], Elsewhere]
    _plans: dict[tuple[str, int], Plan | LazyPlans | None]
    _once: FirstReplay
    _lock: threading.Lock
    misses: list[RecordingNotFound]
    replayed_entries: list[Entry]

    @property
    def store(self) -> Store:
        raise NotImplementedError

    def replay(self, call: Call, slot: int, entry: Entry, *, async_stream: bool = False) -> Any:
        """Rebuild the stored answer (fresh objects) or raise the stored exception.

        A stored stream comes back as a stream (async when ``async_stream``) that decodes
        its chunks one at a time, then raises the stored error if it ended with one.
        """
        key = (call.key, slot)
        self.used.add(key)
        if self._found_at:
            elsewhere = self._found_at.get(key)
            if elsewhere is not None:  # the files it came from are used (not pruned as unused)
                self.used.update((listed, 0) for listed in elsewhere.keys)
        with self._lock:  # one first replay per answer, also among threads
            # counted here, not by count(): one lock per replay on the hot path
            self.stats.replayed += 1
            self.journal.append(("replayed", call.function, call.key))
            self.replayed_entries.append(entry)  # what it saved, added up at close
            plans = self._plans.get(key, _UNSEEN)
            known = plans is not _UNSEEN
            if not known:
                plans = self._plans[key] = None
        if known and plans is None:
            # The first replay handed out objects that may hold parts of the cached entry
            # (no copy: most answers are replayed once). From now on, decode a copy of the
            # stored recording that no caller has seen.
            entry, plans = self._pristine(call, slot, entry), None
        response = entry["response"]
        if call.keying is not None:
            reshape = getattr(call.keying, "replayed", None)  # another format's answer
            if reshape is not None:
                response = reshape(response)
        if call.own_kind:
            check_stream_kind(call, slot, response, async_stream, self._where)
        if response.get("is_streaming"):
            factor = self.settings.replay_timing
            due = None if factor is None else chunk_times(entry, factor)
            return self._replay_stream(
                call, slot, response, async_stream, plans, first=not known, due=due
            )
        if response.get("is_exception"):
            data = response.get("exception_data")
            if call.keying is not None and isinstance(data, dict):
                raise format_error(
                    call, data, self._where(call, slot), self.settings.trusted_modules
                )
            raise_recorded(response, self.settings.trusted_modules, self._where(call, slot))
        try:
            if callable(plans):
                return plans()
            if not known:  # the first replay: decode plainly, lending the cached payload
                return self._once(response["body"])
            made, value = _preparer(self.settings)(response["body"])  # again: worth a plan
            self._plans[key] = made
            return value
        except DecodeError as e:
            raise e.located(file=self._where(call, slot)) from e.__cause__

    def _where(self, call: Call, slot: int) -> str:
        return _where_of(self._found_at.get((call.key, slot)), self.store, call.key, slot)

    def _pristine(self, call: Call, slot: int, entry: Entry) -> Entry:
        if (call.key, slot) in self._found_at and call.keying is not None:
            found = find_elsewhere(self.store, call.keying, call.key, call.request, call.test_id)
            fresh = found[0] if found else None
        else:
            fresh = self.store.read(call.key, slot)
        if fresh is None:  # removed since: what we have differs only by a caller's edits
            return entry
        with self._lock:
            self._entries[(call.key, slot)] = fresh
        return fresh

    def _replay_stream(
        self,
        call: Call,
        slot: int,
        response: dict[str, Any],
        async_stream: bool,
        plans: Plan | LazyPlans | None,
        *,
        first: bool,
        due: list[float] | None = None,
    ) -> Any:
        """A stream over the stored chunks, each decoded only when the caller asks for it
        (plainly the first time, then by a plan kept for the next replays); ``due``: when
        each chunk is due, at the recorded pace."""
        trusted = self.settings.trusted_modules
        data = response.get("exception_data") if response.get("is_exception") else None
        error: Callable[[], BaseException] | None = None
        if data is not None:
            where = self._where(call, slot)
            if isinstance(data, dict) and call.keying is not None:
                error = functools.partial(format_error, call, data, where, trusted)
            else:
                error = functools.partial(rebuild_error, data, trusted, where)
        elif response.get("truncated"):
            error = functools.partial(self._read_past_the_end, call, slot, response)
        # The plans kept here never refer back to this object: a recording's answers are freed
        # when it closes, not left as cyclic garbage for the collector (a cost on every test).
        if not isinstance(plans, LazyPlans):
            body = response["body"]
            chunks = body if isinstance(body, list) else []
            elsewhere = self._found_at.get((call.key, slot))
            locate = functools.partial(_where_of, elsewhere, self.store, call.key, slot)
            if first:  # the first replay decodes each chunk plainly, lending the stored ones
                decode = functools.partial(decode_first, self._once, locate)
                return replay_stream(chunks, decode, error, async_stream=async_stream, due=due)
            plans = LazyPlans(chunks, _preparer(self.settings), locate)
            self._plans[(call.key, slot)] = plans
        return replay_stream(plans.plans, operator.call, error, async_stream=async_stream, due=due)

    def _read_past_the_end(
        self, call: Call, slot: int, response: dict[str, Any]
    ) -> IncompleteRecording:
        """A replayed stream read past the end of what was stored (it was cut while recorded):
        kept with the misses, so a test whose code swallows it fails all the same."""
        error = incomplete(call, response, self._where(call, slot), self.store.location)
        with self._lock:
            self.misses.append(error)
        note_replay_error(error)  # a server sends it back to the test it serves
        return error


def _preparer(settings: Settings) -> Callable[[Any], tuple[Plan, Any]]:
    """:func:`prepare` with the recording's decoding settings; it refers to nothing else of
    the recording's, so the plans that keep it make no reference cycle."""
    return functools.partial(
        prepare, trusted_modules=settings.trusted_modules, strict_types=settings.strict_types
    )


def _where_of(elsewhere: Elsewhere | None, store: Store, key: str, slot: int) -> str:
    return elsewhere.where if elsewhere else store.describe(key, slot)
