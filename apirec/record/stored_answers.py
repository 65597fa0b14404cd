"""The answers of one recording: which stored answer each call gets, and saving new ones.

Per key it keeps the call sequence (the n-th call gets the n-th answer; past the end in replay
mode a miss, or the last one again: :mod:`apirec.record.sequences`), caches the entries it has
read, decodes replayed answers (plainly the first time, by a plan from a pristine re-read after
that), writes new answers at once, and keeps the books: counts, journal and slots used.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from apirec.codec.envelope import encode
from apirec.codec.exception_data import error_response
from apirec.codec.replay_plans import FirstReplay, LazyPlans, Plan
from apirec.errors import BudgetExceeded, RecordingNotFound, StoreError, called
from apirec.guard.origins import ORIGIN, origin_of
from apirec.record.budget import Budget, budget_of
from apirec.record.calls import Call, KeyState, Stats, open_store
from apirec.record.error_policy import Policy, Services, by_client, from_service, should_store
from apirec.record.expiry import Expiry
from apirec.record.live_ledger import live_ledger
from apirec.record.missing import Missing
from apirec.record.modes import Mode
from apirec.record.other_names import Elsewhere, find_elsewhere, write_named
from apirec.record.renames import Renames
from apirec.record.replaying import Replaying
from apirec.record.savings import prices_of, tally, tally_spent
from apirec.record.sequences import repeats_last
from apirec.record.settings import Settings
from apirec.record.store_index import StoreIndex
from apirec.record.transient_notes import TransientNotes
from apirec.stores.json_store import Entry, Store
from apirec.stores.ledger import LEDGER
from apirec.stores.metadata import stamp

_STORING = (Mode.RECORD, Mode.RECORD_IF_MISSING)


class Answers(Replaying, Missing):
    """Stored answers looked up, replayed and saved for one :class:`~apirec.Recording`."""

    def __init__(self, settings: Settings, lock: threading.Lock) -> None:
        self.settings = settings
        self.mode = settings.mode
        self.stats = Stats()
        self.used: set[tuple[str, int]] = set()
        self.test_ids: set[str] = set()  # the tests its calls were keyed under
        self.journal: list[tuple[str, str, str]] = []  # (event, function, key) per call
        # record mode replaces only answers written before this moment (see begin())
        self.started = time.time()
        self._store: Store | None = None
        self._keys: dict[str, KeyState] = {}
        self._entries: dict[tuple[str, int], Entry] = {}
        # where answers found under other names or keys (apirec.keys.spec.Keying) were read from
        self._found_at: dict[tuple[str, int], Elsewhere] = {}
        # How each stored answer is decoded: None after its first replay, then a plan
        self._plans: dict[tuple[str, int], Plan | LazyPlans | None] = {}
        self._once = FirstReplay(self.settings.trusted_modules, self.settings.strict_types)
        self._lock = lock  # the recording's: one lock for all its books
        self.refused = False  # a call came but could not be keyed (since begin())
        self.misses, self.read_errors = [], []  # (typed in Missing)
        self._expiry = Expiry.of(settings.max_age, settings.on_expired, self.mode, settings.extra)
        # (key, call index) -> slot of an expired answer this call records again
        self._renewing: dict[tuple[str, int], int] = {}
        # (key, call index) -> the origin a live call's client sends to, stored with its answer
        self._origins: dict[tuple[str, int], str] = {}
        # (key, call index) -> when a live call began (perf_counter), for its answer's ledger
        self._began: dict[tuple[str, int], float] = {}
        # the record budget a live call holds until its answer is counted (apirec.record.budget)
        self._held: dict[tuple[str, int], tuple[Budget, str]] = {}
        self.replayed_entries: list[Entry] = []  # added up as the recording closes
        self._spent: list[dict[str, Any]] = []  # the ledgers of the answers recorded, too
        # the session's knowledge of renamed tests (the pytest plugin's), if any
        renames = settings.extra.get("renames")
        self.renames = renames if isinstance(renames, Renames) else None
        self._index: StoreIndex | None = None  # what is stored, read on a miss
        # calls whose last outcome was a transient error not stored (for misses and warnings)
        self.transient = TransientNotes()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    def begin(self, started: float) -> None:
        """A new activation: sequences start afresh; answers older than ``started`` are old."""
        self.started = started
        self._keys.clear()
        self.refused = False

    def intercepted(self) -> bool:
        """Whether any call came since :meth:`begin` (each call keyed gets its key's state)."""
        return self.refused or bool(self._keys)

    def state(self, key: str) -> KeyState:
        state = self._keys.get(key)
        if state is None:
            with self._lock:
                state = self._keys.setdefault(key, KeyState())
        return state

    def lookup(self, call: Call) -> tuple[int, Entry] | None:
        """The stored answer for this call under the current mode, or None."""
        __tracebackhide__ = True  # an expired answer that fails points at the caller's line
        state = self.state(call.key)
        cached = self._entries.get((call.key, call.index))
        if cached is not None:
            if self._expiry is not None:
                return self._aged(call, call.index, cached)
            return call.index, cached
        counted_now = state.stored is None
        if state.stored is None:
            state.stored = self.store.count(call.key)
            if not state.stored and call.keying is not None:
                found = find_elsewhere(
                    self.store, call.keying, call.key, call.request, call.test_id
                )
                if found is not None:
                    state.stored = 1
                    self._entries[(call.key, 0)], self._found_at[(call.key, 0)] = found
            elif not state.stored and self.renames is not None:
                state.stored = self._renamed(call)
        stored = state.stored
        if call.index >= stored and self.mode is Mode.RECORD_IF_MISSING and not counted_now:
            # about to call live: another process may have stored this answer since the count
            stored = state.stored = max(stored, self.store.count(call.key))
        if call.index < stored:
            slot = call.index
        elif self.mode is Mode.REPLAY and stored:
            keyed_elsewhere = call.keying is not None
            if not repeats_last(
                call.repeats, self.settings.repeats, keyed_elsewhere=keyed_elsewhere
            ):
                raise self._past_the_end(call, stored)
            slot = stored - 1  # past the end: the last answer again
        else:
            return None
        entry = self._entries.get((call.key, slot))
        if entry is None:
            entry = self._read(call, slot)
            if entry is None:  # removed since it was counted
                state.stored = None
                return None
            self._entries[(call.key, slot)] = entry
        if self._expiry is not None:
            return self._aged(call, slot, entry)
        return slot, entry

    def _aged(self, call: Call, slot: int, entry: Entry) -> tuple[int, Entry] | None:
        """The answer found, or None when it expired and this call records it again."""
        __tracebackhide__ = True
        assert self._expiry is not None
        try:
            if self._expiry.allows(entry, call, lambda: self._where(call, slot), self.store):
                return slot, entry
        except RecordingNotFound as e:  # the pytest plugin fails a test that swallowed it
            self.missed(call, e, "expired")
            raise
        self._renewing[(call.key, call.index)] = slot
        return None

    def going_live(
        self, call: Call, instance: Any = None, held: tuple[Budget, str] | None = None
    ) -> None:
        """``call`` goes to the real function (see :meth:`settle`), holding ``held``."""
        remote = self.settings.remote
        if remote is not None and self.mode in _STORING:
            from apirec.stores.remote import objects  # loaded only by a recording with a remote

            if objects.is_read_only(remote):
                if held is not None:
                    held[0].release(held[1])
                self.abandon(call)  # never made: nothing spent, nothing half-written
                raise objects.read_only_refusal(remote, call.function)
        if held is None:
            budget = budget_of(self.settings.extra)  # its own, else the run's: read at the call
            if budget is not None:
                try:
                    held = budget, budget.reserve(call.function)
                except BudgetExceeded:
                    self.refused_by_budget(call)
                    raise
        if held is not None:
            self._held[call.key, call.index] = held
        self._began[call.key, call.index] = time.perf_counter()
        origin = origin_of(instance)
        if origin is not None:  # what a replay must not reach (apirec.guard.origins)
            self._origins[call.key, call.index] = origin
        if call.keying is None and (call.key, call.index) not in self._renewing:
            self.state(call.key).pending.add(call.index)

    async def hold_async(self, call: Call) -> tuple[Budget, str] | None:
        """The budget a call of a task holds, waiting without holding the loop."""
        budget = budget_of(self.settings.extra)
        if budget is None:
            return None
        try:
            return budget, await budget.reserve_async(call.function)
        except BudgetExceeded:
            self.refused_by_budget(call)
            raise

    def refused_by_budget(self, call: Call) -> None:
        self.abandon(call)  # never made: it takes no place in its sequence
        self.count("refused_by_budget")

    def failed(
        self,
        call: Call,
        error: Exception,
        policy: Policy | None,
        response: dict[str, Any] | None = None,
        service: Services = None,
    ) -> None:
        """``call`` raised ``error``: store it as its answer (``response``: a stream that
        ended with it), unless ``policy`` (its ``store_errors=``, else the recording's) says
        not to or it is an SDK's error not from its ``service``; then the call gives up its
        place, so the answer of a retry takes it (also for its SDK's client's own error)."""
        if by_client(error, call, self.count) or not from_service(error, service):
            return self.abandon(call)
        try:
            store = should_store(self.settings.store_errors if policy is None else policy, error)
        except Exception as failure:  # the user's callable: loud, with what it was judging
            failure.add_note(
                f"apirec: raised by the store_errors= callable of {called(call.function)} while "
                f"deciding whether to store {error!r}; that error was not stored"
            )
            self.abandon(call)
            raise
        if store:
            self.save(call, error_response(error) if response is None else response)
            return
        # an answer already in its place (an expired one, one of an earlier run) replays
        slot, renewing = self.state(call.key).slot_of(call.index), (call.key, call.index)
        kept = renewing in self._renewing or self.transient.stored_at(self.store, call.key, slot)
        self.abandon(call)
        self.count("errors_not_stored", call)
        if not kept:
            self.transient.transient(call, error)

    def abandon(self, call: Call) -> None:
        """``call`` ended with no answer to store (cancelled, interrupted, or its answer could
        not be stored): answers of later identical calls, stored at their own places as they
        came, move down into its place, so that replay finds a sequence with no hole."""
        self._origins.pop((call.key, call.index), None)
        self._began.pop((call.key, call.index), None)
        held = self._held.pop((call.key, call.index), None)
        if held is not None:
            held[0].release(held[1])
        if self._renewing.pop((call.key, call.index), None) is not None:
            return  # the expired answer stays in its place
        if call.keying is None:  # else stored under a name of its own, not in a sequence
            self._abandon(call.key, self.state(call.key), call.index)

    def settle(self) -> None:
        """The recording closes: calls whose answer is still not stored (a stream left
        unfinished) give up their places, so the answers after them are not hidden; such an
        answer, stored later, goes after the others."""
        for key, state in list(self._keys.items()):
            for index in sorted(state.pending):
                self._abandon(key, state, index)
        for budget, held in self._held.values():  # streams left unread: their calls end here
            budget.release(held)
        self._held.clear()
        with self._lock:
            replayed, self.replayed_entries = self.replayed_entries, []
            spent, self._spent = self._spent, []
            prices = prices_of(self.settings.extra)
            tally(self.stats, replayed, prices)
            tally_spent(self.stats, spent, prices)
        tidy = getattr(self.store, "tidy", None)  # the JSON store's empty temp directory
        if tidy is not None:
            tidy()

    def _abandon(self, key: str, state: KeyState, index: int) -> None:
        with self._lock:
            state.pending.discard(index)
            gap = state.slot_of(index)
            state.abandoned.append(index)
            if self.store.close_gap(key, gap):
                # what is cached under the slots that moved is stale; the books stay
                # conservative: a slot counted as used in either place is never pruned
                for cached_key, slot in list(self._entries):
                    if cached_key == key and slot >= gap:
                        del self._entries[(cached_key, slot)]
                        self._plans.pop((cached_key, slot), None)
                self.used.update([(k, i - 1) for k, i in self.used if k == key and i > gap])
                state.stored = None

    def where(self, call: Call, slot: int) -> str:
        """Where the answer of ``call`` in ``slot`` is stored (a file), for messages."""
        return self._where(call, slot)

    def save(
        self, call: Call, response: dict[str, Any], chunk_times: list[float] | None = None
    ) -> int:
        """Write one answer now, not when the recording closes; returns its slot.
        ``chunk_times``: when a stream's chunks came (perf_counter), for its ledger."""
        try:
            return self._save(call, response, chunk_times)
        except BaseException as e:
            with contextlib.suppress(StoreError):  # the error being raised says the store fails
                self.abandon(call)
            if not isinstance(e, StoreError):
                raise
            # say that the call itself was made: it may have cost money
            raise StoreError(
                f"{called(call.function)} was called, but its answer could not be stored: {e}",
                path=e.path,
            ) from None

    def _save(
        self, call: Call, response: dict[str, Any], chunk_times: list[float] | None = None
    ) -> int:
        self.transient.saved(call)
        began = self._began.pop((call.key, call.index), None)
        ledger = None
        if began is not None:  # a live call: what it took, and what the provider reported
            ledger = live_ledger(response, began, chunk_times)
            held = self._held.pop((call.key, call.index), None)
            if held is not None:
                held[0].spend(ledger, held[1])  # spent, whether or not it can be stored
            else:
                budget = budget_of(self.settings.extra)
                if budget is not None:
                    budget.spend(ledger)
        state = self.state(call.key)
        if self.mode is Mode.RECORD and not state.reset_done:
            with self._lock:
                if not state.reset_done:
                    # Answers from before this recording began go; those that other
                    # processes write while it runs stay.
                    self.store.reset(call.key, older_than=self.started)
                    reset_other = getattr(self.store, "reset_other_names", None)
                    if call.keying is not None and reset_other is not None:
                        reset_other(call.key, older_than=self.started)  # an outdated model list
                    state.reset_done = True
                    state.stored = 0
        name = None
        if call.keying is not None and call.request is not None:
            request = call.request
            response, name = call.keying.stored(call.key, request, response)
        else:
            request = {"function": call.function, "args": encode(call.arguments), "key": call.key}
        origin = self._origins.pop((call.key, call.index), None)
        entry: Entry = {
            "test_id": call.test_id,
            **stamp(response),  # recorded_at, versions
            **({ORIGIN: origin} if origin is not None else {}),
            "request": request,
            "response": response,
            "id_normalization_mapping": {},
            **({LEDGER: ledger} if ledger is not None else {}),
        }
        listed = None  # a file named by the keying, under this key in the store's listing
        renewed = self._renewing.pop((call.key, call.index), None)
        if name is None and renewed is not None:  # in place of the expired answer
            self.store.replace(call.key, renewed, entry, rules=call.rules)
            slot = renewed
        elif name is None:
            # The place of this call among the identical calls of this recording (by the order
            # they started, not the order they end), or the first free slot after it when
            # another process took it.
            # (an answer whose place was given up goes after the others: first free slot)
            late = call.index in state.abandoned
            start = 0 if late else state.slot_of(call.index)
            slot = self.store.write(call.key, entry, start=start, rules=call.rules)
        else:
            reset_other = getattr(self.store, "reset_other_names", None)
            if renewed is not None and reset_other is not None:
                # as record mode does: the expired list goes, not left to be merged with this
                reset_other(call.key, older_than=self.started)
            listed, slot = write_named(self.store, name, entry, call.rules), 0
        with self._lock:
            state.pending.discard(call.index)
            if listed is not None:
                self.used.add((listed, 0))
            # not cached: the store holds it as the write gate let it through, and that is
            # what a replay of it must give, the first time as every time
            self._entries.pop((call.key, slot), None)
            self._plans.pop((call.key, slot), None)
            if state.stored is not None:
                state.stored = max(state.stored, slot + 1)
            self.used.add((call.key, slot))
            self.stats.recorded += 1
            if ledger is not None:
                self._spent.append(ledger)
            self.journal.append(("recorded", call.function, call.key))
        return slot

    def count(self, what: str, call: Call | None = None) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)
            if call is not None:
                self.journal.append((what, call.function, call.key))
