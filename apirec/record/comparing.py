"""Compare mode: every call goes live, nothing is stored, each live answer is compared with the
stored one for that call (DESIGN §14; the live twin of ``apirec drift``). The same call path
measures the live calls of live mode under a record budget (``measure_only``): each answer's
ledger spends the budget, nothing is compared.

The live answer is first put in its stored form, as a recording mode would store it: encoded,
through the keying's own form (llama-stack's files), then through the write gate with the
call's ``scrub=`` rules (:func:`apirec.stores.gated.gated`) and a JSON round trip, so that a
secret the gate replaces, or a tuple that a file turns into a list, is not a difference. Then
:func:`apirec.codec.answer_diff.compare_answers` says what differs. Nothing is written: this
module only reads the store.

An error that the recording modes would not store (transient: 429, 5xx, timeouts; see
:mod:`apirec.record.error_policy`) is reported as transient and gives up its place in the call
order, as it does when recording, so that the retry's answer is compared with the stored one.
Each result is a plain dict (JSON-ready) in ``Recording.compared``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from apirec.codec.answer_diff import compare_answers
from apirec.codec.envelope import encode, encode_result
from apirec.codec.exception_data import error_response
from apirec.errors import BudgetExceeded, called
from apirec.record.budget import Budget, budget_of
from apirec.record.calls import Call, KeyState, Stats
from apirec.record.context import current_test_id
from apirec.record.error_policy import Policy, Services, client_of, from_service, should_store
from apirec.record.live_ledger import live_ledger
from apirec.record.modes import Mode
from apirec.record.other_names import find_elsewhere
from apirec.record.savings import prices_of, tally_spent
from apirec.record.sequences import repeats_last
from apirec.record.settings import Settings
from apirec.record.stored_answers import Answers
from apirec.stores.gated import gated
from apirec.stores.json_store import Entry, Store, dumps
from apirec.stores.ledger import LEDGER, reported
from apirec.streams.recording import is_stream, record_stream
from apirec.streams.tape import IN_CALL, Tape

# what a compared call came to, worst last (the summary counts them)
SAME, CONTENT, STRUCTURE = "same", "content", "structure"
NEW, TRANSIENT, NOT_COMPARED = "new", "transient", "not compared"
OUTCOMES = (SAME, CONTENT, STRUCTURE, NEW, TRANSIENT, NOT_COMPARED)


class Comparing:
    """The compare-mode call path of one recording; its results in :attr:`results`."""

    def __init__(
        self,
        settings: Settings,
        store: Callable[[], Store],
        state: Callable[[str], KeyState],
        lock: threading.Lock,
        keep: Callable[[Tape], None],
        stats: Stats,
        *,
        measure_only: bool = False,
    ) -> None:
        self.settings = settings
        self._stats = stats
        # live mode under a record budget: the live answers are measured (their ledgers
        # spend the budget), not compared and not reported
        self.measure_only = measure_only
        self._store = store
        self._state = state
        self._lock = lock
        self._keep = keep
        self.results: list[dict[str, Any]] = []
        self._held: dict[tuple[str, int], tuple[Budget, str]] = {}

    def _hold(self, call: Call, held: tuple[Budget, str] | None = None) -> None:
        """A compare run goes live: it holds and spends the record budget too
        (apirec.record.budget); ``held``: already held (a task's call)."""
        if held is None:
            budget = budget_of(self.settings.extra)
            if budget is None:
                return
            try:
                held = budget, budget.reserve(call.function)
            except BudgetExceeded as e:
                self.refused(call, e)
                raise
        with self._lock:
            self._held[call.key, call.index] = held

    async def _hold_async(self, call: Call) -> None:
        budget = budget_of(self.settings.extra)
        if budget is None:
            return
        try:
            held = budget, await budget.reserve_async(call.function)
        except BudgetExceeded as e:
            self.refused(call, e)
            raise
        self._hold(call, held)

    def refused(self, call: Call, error: BudgetExceeded) -> None:
        if not self.measure_only:  # reported, as a call not compared: it was never made
            self._report(
                call,
                self.slot(call),
                NOT_COMPARED,
                time.perf_counter(),
                error=str(error),
                refused_by_budget=True,
            )
        with self._lock:
            self._stats.refused_by_budget += 1
            self._stats.live -= 1  # counted as it went live, and never made

    def _spend(self, call: Call, ledger: dict[str, Any] | None) -> None:
        """The call's answer is counted (``ledger``), or it got none: what it held goes back."""
        with self._lock:
            held = self._held.pop((call.key, call.index), None)
        if held is not None:
            if ledger is None:
                held[0].release(held[1])
            else:
                held[0].spend(ledger, held[1])
        if ledger is not None:
            with self._lock:  # what the summary says the live calls spent, budget or not
                tally_spent(self._stats, [ledger], prices_of(self.settings.extra))

    def close(self) -> None:
        """The recording closes: calls still in flight (a stream left unread) hold nothing."""
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for budget, reservation in held:
            budget.release(reservation)

    def slot(self, call: Call) -> int:
        """The stored answer a call is compared with: its place among the identical calls,
        less those before it that got no answer (transient errors), as when recording."""
        state = self._state(call.key)  # not under the lock: state() may take it
        with self._lock:
            return state.slot_of(call.index)

    def stored(self, call: Call, slot: int) -> tuple[Entry, tuple[str, str | None], int] | None:
        """The stored answer of this call, where it is (the store's ``place``: the file, and
        the name in it when the file holds many) and its slot, read only (no rename, no
        rekey). A call past the end of its sequence is compared with the last answer when
        replay would give it that one (``repeats="last"``: a status poll)."""
        store = self._store()
        count = store.count(call.key)
        last = repeats_last(
            call.repeats, self.settings.repeats, keyed_elsewhere=call.keying is not None
        )
        if slot >= count and count and last:
            slot = count - 1
        if slot < count:
            entry = store.read(call.key, slot)
            if entry is not None:
                return entry, store.place(call.key, slot), slot
        if call.keying is not None and (slot == 0 or (last and not count)):
            found = find_elsewhere(store, call.keying, call.key, call.request, call.test_id)
            if found is not None:
                return found[0], found[1].place, 0
        return None

    def call_sync(
        self,
        call: Call,
        wrapped: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        policy: Policy | None,
        service: Services,
        async_stream: bool,
    ) -> Any:
        self._hold(call)
        slot = self.slot(call)
        began = time.perf_counter()
        inside = IN_CALL.set(True)  # its SDK's requests are this call's (httpx fallback)
        try:
            result = wrapped(*args, **kwargs)
        except Exception as error:
            self.failed(call, slot, began, error, policy, service)
            raise
        except BaseException:  # cancelled or interrupted: no answer will ever come
            self._spend(call, None)
            raise
        finally:
            IN_CALL.reset(inside)
        return self._finish(call, slot, began, result, policy, async_stream=async_stream)

    async def call_async(
        self,
        call: Call,
        wrapped: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        policy: Policy | None,
        service: Services,
    ) -> Any:
        await self._hold_async(call)
        slot = self.slot(call)
        began = time.perf_counter()
        inside = IN_CALL.set(True)  # its SDK's requests are this call's (httpx fallback)
        try:
            result = await wrapped(*args, **kwargs)
        except Exception as error:
            self.failed(call, slot, began, error, policy, service)
            raise
        except BaseException:  # cancelled or interrupted: no answer will ever come
            self._spend(call, None)
            raise
        finally:
            IN_CALL.reset(inside)
        return self._finish(call, slot, began, result, policy, async_stream=True)

    def _finish(
        self,
        call: Call,
        slot: int,
        began: float,
        result: Any,
        policy: Policy | None,
        *,
        async_stream: bool,
    ) -> Any:
        if is_stream(result):

            def save(response: dict[str, Any], chunk_times: list[float]) -> str:
                return self.compare(call, slot, response, began, chunk_times)

            def fail(error: Exception, response: dict[str, Any]) -> None:
                self.failed(call, slot, began, error, policy, None, response)

            return record_stream(
                result,
                call.function,
                async_stream=async_stream,
                save=save,
                keep=self._keep,
                fail=fail,
            )
        body = encode_result(result, f"the result of {called(call.function)}")
        self.compare(call, slot, {"body": body, "is_streaming": False}, began)
        return result

    def failed(
        self,
        call: Call,
        slot: int,
        began: float,
        error: Exception,
        policy: Policy | None,
        service: Services,
        response: dict[str, Any] | None = None,
    ) -> None:
        """An error: compared as the answer it would be stored as, or reported as transient
        (the recording modes would not store it either), or, raised before any answer came
        (a bad argument), as not compared."""
        if self.measure_only:  # an error reports no usage: it spends nothing
            self._spend(call, None)
            return
        if client_of(error) or not from_service(error, service):
            self._report(call, slot, NOT_COMPARED, began, error=f"{error!r} (raised, no answer)")
            return
        if not should_store(self.settings.store_errors if policy is None else policy, error):
            self._report(call, slot, TRANSIENT, began, error=repr(error))
            return
        self.compare(call, slot, error_response(error) if response is None else response, began)

    def compare(
        self,
        call: Call,
        slot: int,
        response: dict[str, Any],
        began: float,
        chunk_times: list[float] | None = None,
    ) -> str:
        """The live ``response`` against the stored answer; returns the stored file, or ""."""
        if self.measure_only:
            self._spend(call, live_ledger(response, began, chunk_times))
            return ""
        live = self._stored_form(call, response)
        ledger = live_ledger(live, began, chunk_times)  # of the gated answer, as when recording
        self._spend(call, ledger)
        found = self.stored(call, slot)
        if found is None:
            self._report(call, slot, NEW, began, live_ledger=ledger)
            return ""
        entry, (file, name), slot = found
        stored = entry.get("response")
        comparison = compare_answers(stored if isinstance(stored, dict) else {}, live)
        outcome = STRUCTURE if comparison.structural else CONTENT if comparison.content else SAME
        self._report(
            call,
            slot,
            outcome,
            began,
            file=file,
            entry=name,
            differences=[d.as_dict() for d in comparison.differences],
            more_content=comparison.more_content,
            similarity=comparison.similarity,
            stored_ledger=entry.get(LEDGER),
            live_ledger=ledger,
        )
        return file if name is None else f"{file}::{name}"

    def _stored_form(self, call: Call, response: dict[str, Any]) -> dict[str, Any]:
        """``response`` as a recording mode would write it: the keying's form, the gate."""
        if call.keying is not None and call.request is not None:
            request = call.request
            response, _ = call.keying.stored(call.key, request, response)
        else:
            request = {"function": call.function, "args": encode(call.arguments), "key": call.key}
        entry = {"test_id": call.test_id, "request": request, "response": response}
        written: dict[str, Any] = json.loads(dumps(gated(entry, call.rules)))  # as a file reads
        response = written["response"]
        return response

    def _report(self, call: Call, slot: int, outcome: str, began: float, **details: Any) -> None:
        stored = reported(details.pop("stored_ledger", None))  # a file's: maybe damaged
        live = details.pop("live_ledger", None)
        if live is None:  # no answer: what the call took all the same
            live = {"seconds": round(time.perf_counter() - began, 3)}
        result: dict[str, Any] = {
            "test": self.settings.test_id or current_test_id() or call.test_id,
            "function": call.function,
            "key": call.key,
            "call": call.index,
            "slot": slot,
            "outcome": outcome,
            "file": details.pop("file", None),
            "entry": details.pop("entry", None),  # its name in the file: a msgpack store's
            # every call has every field: none for a call with no answer to compare
            "differences": details.pop("differences", []),
            "similarity": details.pop("similarity", None),
            **details,
            "ledger": {"stored": stored, "live": live},
        }
        # the report is written and printed: it passes the write gate, as a stored entry does
        # (an error's text, a model name echoing a key)
        result = gated(result, call.rules)
        if outcome in (TRANSIENT, NOT_COMPARED):  # no answer counted: what it held goes back
            self._spend(call, None)
        state = self._state(call.key)  # not under the lock: state() may take it
        with self._lock:
            if outcome in (TRANSIENT, NOT_COMPARED):  # its place goes to the next such call
                state.abandoned.append(call.index)
            self.results.append(result)


def comparing_for(
    answers: Answers, lock: threading.Lock, keep: Callable[[Tape], None]
) -> Comparing | None:
    """The compare path of a recording whose stored answers are ``answers``: in compare mode,
    and in live mode under a record budget (measuring only); else None."""
    settings = answers.settings
    measure = settings.mode is Mode.LIVE and budget_of(settings.extra) is not None
    if settings.mode is not Mode.COMPARE and not measure:
        return None
    return Comparing(
        settings,
        lambda: answers.store,
        answers.state,
        lock,
        keep,
        answers.stats,
        measure_only=measure,
    )
