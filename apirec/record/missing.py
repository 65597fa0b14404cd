"""The missing half of :class:`~apirec.record.stored_answers.Answers`: a call with no stored
answer, counted once by its kind (changed, new, expired), kept for the pytest plugin and sent
back by a server to the test it serves; and the answers of a renamed test or of older key
rules found and moved for it (``--apirec-rekey``)."""

from __future__ import annotations

import threading
from typing import Literal

from apirec.errors import ApirecError, RecordingNotFound, StoreError
from apirec.record import closing
from apirec.record.calls import Call, Stats
from apirec.record.context import note_replay_error
from apirec.record.modes import Mode
from apirec.record.record_advice import record_advice
from apirec.record.renames import Renames
from apirec.record.replay_errors import past_the_end
from apirec.record.settings import Settings
from apirec.record.store_index import StoreIndex
from apirec.stores.json_store import Entry, Store

# what a miss was (see Stats): no answer like it stored, or one fewer (changed), no call of
# the function stored (new), or its answer older than max_age (expired)
MissKind = Literal["changed", "new", "expired"]


class Missing:
    """Misses and moved answers (its books are set up in ``Answers``)."""

    settings: Settings
    mode: Mode
    stats: Stats
    journal: list[tuple[str, str, str]]
    misses: list[RecordingNotFound]
    read_errors: list[StoreError]
    used: set[tuple[str, int]]
    renames: Renames | None
    _index: StoreIndex | None
    _lock: threading.Lock

    @property
    def store(self) -> Store:
        raise NotImplementedError

    def _where(self, call: Call, slot: int) -> str:
        raise NotImplementedError

    def _read(self, call: Call, slot: int) -> Entry | None:
        """The answer in ``slot``. One that cannot be read (its payload missing from the
        remote...) was still asked for: its slot counts as used (``--apirec-prune`` keeps it),
        and the pytest plugin is told, which fails a test that swallowed the error."""
        try:
            return self.store.read(call.key, slot)
        except StoreError as e:
            with self._lock:
                self.used.add((call.key, slot))
                self.read_errors.append(e)
            closing.missed(e)
            raise

    def _past_the_end(self, call: Call, stored: int) -> RecordingNotFound:
        """A call past the end of its sequence in replay mode: a miss that says so."""
        store = self.store
        files = [self._where(call, slot) for slot in range(stored)]
        error = past_the_end(
            call, stored, files, store.location, record_advice(self.settings.extra)
        )
        # the test has stored calls of this very key, one fewer than it makes now
        return self.missed(call, error, "changed")

    def _renamed(self, call: Call) -> int:
        """No answer for this key: the answers of a renamed test moved here (with rekey), or
        how many there are now. Recording again what a gone test has is noted."""
        renames = self.renames
        if renames is None or call.scoped is None:
            return 0  # keyed by another format, or outside pytest
        if self.mode is Mode.RECORD:
            return 0  # records afresh anyway
        if renames.rekey and call.test_id is None:  # shared: no renamed test, maybe old rules
            return self._rekeyed(call)
        if call.test_id is None:
            return 0
        if renames.rekey:
            found = renames.move(self.store, call.function, call.scoped, call.key, call.test_id)
            if len(found) == 1:
                return self.store.count(call.key)
            if not found:  # recorded under older key rules (apirec.record.key_rules)?
                return self._rekeyed(call)
        elif self.mode is Mode.RECORD_IF_MISSING:
            found = renames.find(self.store, call.function, call.scoped, call.test_id)
        else:
            return 0  # replay: the miss tells
        if self.mode is Mode.RECORD_IF_MISSING:  # the call goes live: say what it repeats
            renames.recorded_again.extend((m.old_test, call.test_id) for m in found)
        return 0

    def _rekeyed(self, call: Call) -> int:
        """With rekey: the answers of this call recorded under older key rules, moved here."""
        if self.renames is None or call.spec is None:
            return 0
        self.renames.move_older(
            self.store, call.spec, call.key, call.test_id, call.arguments, call.rules
        )
        return self.store.count(call.key)  # moved here now, or by another process meanwhile

    def missed(
        self, call: Call, error: RecordingNotFound, kind: MissKind | None = None
    ) -> RecordingNotFound:
        """Every miss passes here: counted once as missed and once by its ``kind`` (None:
        :meth:`miss_kind` tells), so the summary's kinds add up to its misses, and kept for
        the pytest plugin, which fails a test that swallowed it."""
        if kind is None:
            kind = self.miss_kind(call)
        with self._lock:
            self.stats.missed += 1
            if kind == "changed":
                self.stats.missed_changed += 1
            elif kind == "new":
                self.stats.missed_new += 1
            else:
                self.stats.missed_expired += 1
            self.journal.append(("missed", call.function, call.key))
            self.misses.append(error)
        note_replay_error(error)  # a server sends it back to the test it serves
        closing.missed(error)  # the pytest plugin learns which test made it
        return error

    def miss_kind(self, call: Call) -> MissKind:
        """A miss with no answer for its key: changed when the test (or the shared
        recordings, for a shared function) holds a stored call of the function, else new."""
        if self._index is None:  # the session's when the plugin runs, else this recording's
            self._index = self.renames.index if self.renames is not None else StoreIndex()
        try:
            changed = self._index.has_call(self.store, call.test_id, call.function)
        except (ApirecError, OSError):
            changed = False  # the store cannot be read: nothing in it to have changed
        return "changed" if changed else "new"
