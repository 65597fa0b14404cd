"""The recorder: one active recording, its patches, and the two call paths.

For each call it computes the key, asks its :class:`~apirec.record.stored_answers.Answers`
for the n-th stored answer for that key (past the end, a miss or the last again:
``repeats=``), or calls through and stores the answer as soon as it is known.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any, TypeVar

from apirec.errors import ApirecError, NetworkBlocked, RecordingNotFound
from apirec.gate.rules import Scrub
from apirec.guard import core as network_guard
from apirec.guard.hosts import RecordedHosts
from apirec.keys.spec import KeySpec
from apirec.record.call_keys import prepare_call
from apirec.record.calls import Call
from apirec.record.closing import closed, interruption, opened, raise_first
from apirec.record.comparing import comparing_for
from apirec.record.context import (
    ActiveRecording,
    active_recording,
    current_test_id,
    enter_recording,
    exit_recording,
    note_replay_error,
)
from apirec.record.decorating import decorate
from apirec.record.error_policy import StoreErrors
from apirec.record.live_answers import finish_live
from apirec.record.misses import replay_miss
from apirec.record.modes import Mode
from apirec.record.pacing import wait_of
from apirec.record.recorded_hosts import recorded_hosts
from apirec.record.settings import Settings
from apirec.record.stored_answers import Answers
from apirec.record.transient_notes import warn_unstored
from apirec.record.unplayed import Unplayed, owned, unplayed
from apirec.stores.files import record_start
from apirec.stores.json_store import Entry, Store
from apirec.streams.finishing import Bound, OpenStreams
from apirec.streams.tape import IN_CALL

if TYPE_CHECKING:
    from apirec.record import wrapping as _wrapping
else:  # wrapping imports this module: Patch is resolved when annotations are asked for
    from apirec.record.lazy_module import LazyModule

    _wrapping = LazyModule("apirec.record.wrapping")

F = TypeVar("F", bound=Callable[..., Any])

# the guard finds the recording of a call the way calls do
network_guard.resolve_with(active_recording)
network_guard.report_with(note_replay_error)


class Recording:
    """Record or replay the calls made while it is active.

    Use as ``with``/``async with`` block or as a decorator; see :func:`apirec.recording`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "recordings",
        *,
        mode: Mode | str | None = None,
        store: str = "json",
        trusted_modules: Iterable[str] = (),
        strict_types: bool = True,
        test_id: str | None = None,
        stream_rest_chunks: int | None = None,
        stream_rest_seconds: float | None = None,
        block_network: bool | None = None,
        allow_hosts: Iterable[str] | None = None,
        max_age: str | dt.timedelta | None = None,
        on_expired: str | None = None,
        store_errors: StoreErrors = "permanent",
        repeats: str | None = None,
        scrub: Iterable[Scrub] = (),
        replay_timing: str | float | None = None,
        remote: str | None = None,
        remote_options: Mapping[str, str] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings.build(
            path,
            mode=mode,
            store=store,
            trusted_modules=trusted_modules,
            strict_types=strict_types,
            test_id=test_id,
            stream_rest_chunks=stream_rest_chunks,
            stream_rest_seconds=stream_rest_seconds,
            block_network=block_network,
            allow_hosts=allow_hosts,
            max_age=max_age,
            on_expired=on_expired,
            store_errors=store_errors,
            repeats=repeats,
            scrub=scrub,
            replay_timing=replay_timing,
            remote=remote,
            remote_options=remote_options,
        )
        self.mode = self.settings.mode
        self._lock = threading.Lock()
        self._answers = answers = Answers(self.settings, self._lock)
        # the answers' books, the same objects
        self.stats, self.used, self.journal = answers.stats, answers.used, answers.journal
        self.misses: list[RecordingNotFound] = answers.misses
        self.read_errors = answers.read_errors  # the stored answers that could not be read
        self.blocked: list[NetworkBlocked] = []
        self._recorded_hosts: RecordedHosts | None = None
        self._depth = 0
        self._tokens: list[Token[ActiveRecording | None] | None] = []
        self._patches: list[_wrapping.Patch] = []
        # Streams being recorded, kept until they end; finished when the recording closes.
        self._streams = OpenStreams(
            Bound(self.settings.stream_rest_chunks, self.settings.stream_rest_seconds)
        )
        self._dropped = self._streams.dropped  # read on every call: one attribute, not two
        # compare mode (and live mode under a record budget, to measure what calls spend):
        # calls go live and are compared with the stored answers, never stored
        self._comparing = comparing_for(answers, self._lock, self._streams.keep)
        self.compared: list[dict[str, Any]] = []
        if self._comparing is not None:
            self.compared = self._comparing.results
        # live calls go straight to the real function (unless a budget measures them)
        self.passes_through = self.mode is Mode.LIVE and self._comparing is None
        self.is_open = False
        # The pytest plugin's own recording judges a test by every recording it opened.
        self.warn_if_nothing_recorded = True

    # -- activation ---------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self._answers.store

    def __enter__(self) -> Recording:
        with self._lock:
            if self._depth == 0:
                # record mode replaces only answers written before this moment
                self._answers.begin(record_start() if self.mode is Mode.RECORD else time.time())
                self.is_open = True
                self._recorded_hosts = None  # read again, when the guard first asks
                network_guard.on_open(self)
            self._depth += 1
            first = self._depth == 1
        self._tokens.append(enter_recording(self))
        if first:
            opened(self)  # the pytest plugin counts it, whoever opened it
        return self

    def __exit__(self, *exc_info: object) -> None:
        failed = exc_info[1] is not None if len(exc_info) > 1 else False
        if self._depth == 1:
            interrupted = interruption(exc_info)
            if interrupted is not None:
                self._leave(lambda: self._streams.cut_all(interrupted), failed=failed)
            else:
                self._leave(lambda: raise_first(self._streams.finish_all_sync()), failed=failed)
        else:
            self._leave(None)

    @property
    def intercepted(self) -> bool:
        """Whether any call came to this recording since it was last opened."""
        return self._answers.intercepted()

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        errors: list[Exception] = []
        if self._depth == 1 and interruption(exc_info) is None:
            errors = await self._streams.finish_all_async()
        self.__exit__(*exc_info)  # closes even when a stream could not be finished
        raise_first(errors)

    def _leave(self, finish: Callable[[], None] | None, *, failed: bool = False) -> None:
        """Deactivate; when closing, run ``finish`` first, and deactivate even if it fails."""
        token = self._tokens.pop() if self._tokens else None
        with self._lock:
            self._depth -= 1
            closing = self._depth == 0
        if not closing:
            exit_recording(self, token)
            return
        try:
            if finish is not None:
                finish()
        finally:
            try:
                # calls still unanswered give up their places to the answers stored after them
                self._answers.settle()
                if self._comparing is not None:
                    self._comparing.close()
                self._answers.transient.write(self.settings.path)
            finally:
                network_guard.on_close(self)
                while self._patches:
                    self._patches.pop().stop()
                self.is_open = False
                exit_recording(self, token)
        closed(self, failed=failed)
        if not failed and self.warn_if_nothing_recorded:
            warn_unstored(self._answers.transient, self.settings.path)

    def recorded_hosts(self) -> RecordedHosts:
        """The hosts this recording's stored answers were recorded against (read from the
        store the first time the guard asks, which only a loopback connection under replay
        does)."""
        hosts = self._recorded_hosts
        if hosts is None:
            hosts = self._recorded_hosts = recorded_hosts(self.store)
        return hosts

    async def finish_streams(self, error: BaseException | None = None) -> None:
        """Finish the open streams now, in this event loop (the pytest plugin does this for
        async tests); cut them, storing what was received, when ``error`` is a cancellation
        or Ctrl-C."""
        if error is not None and not isinstance(error, Exception):
            self._streams.cut_all(error)
            return
        raise_first(await self._streams.finish_all_async())

    def __call__(self, target: F) -> F:
        """Use the recording as a decorator: active for each call of a function, for the
        whole life of a generator (a yield fixture) until it is exhausted or closed, or for
        each ``test*`` method of a class (the class itself is returned)."""
        return decorate(self, target)

    def patch(self, target: str, **options: Any) -> _wrapping.Patch:
        """Wrap ``target`` (``"pkg.module.Class.method"``) until this recording closes."""
        from apirec.record.wrapping import Patch

        return self.start_patch(Patch(target, **options))

    def start_patch(self, patch: _wrapping.Patch) -> _wrapping.Patch:
        """Start ``patch`` (a ``Patch`` or an integration's subclass) until this closes."""
        if not self.is_open:
            # Nothing would ever undo it: the target would stay patched for the whole process.
            raise ApirecError(
                f"{self!r} is not open: call .patch() inside "
                "`with apirec.recording(...) as rec:`, or use apirec.patch(...) on its own"
            )
        patch.start()
        self._patches.append(patch)
        return patch

    # -- calls ----------------------------------------------------------------------------

    def prepare(
        self, spec: KeySpec, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Call:
        return prepare_call(self._answers, self.settings, spec, instance, args, kwargs)

    def lookup(self, call: Call) -> tuple[int, Entry] | None:
        """The stored answer for this call under the current mode, or None."""
        return self._answers.lookup(call)

    def unplayed(self) -> list[Unplayed]:
        """The stored answers of its tests (its calls', ``test_id=``, the current test
        context's) it neither replayed nor recorded: see :mod:`apirec.record.unplayed`."""
        if self.mode in (Mode.LIVE, Mode.COMPARE):  # neither reads the answers to replay them
            return []
        tests = set(self._answers.test_ids)
        tests.update(t for t in (self.settings.test_id, current_test_id()) if t)
        if not tests:
            return []
        store = self.store
        return unplayed(owned(store), tests, self.used, store)

    def replay(self, call: Call, slot: int, entry: Entry, *, async_stream: bool = False) -> Any:
        """Rebuild the stored answer (fresh objects) or raise the stored exception."""
        return self._answers.replay(call, slot, entry, async_stream=async_stream)

    def miss(self, call: Call) -> RecordingNotFound:
        return replay_miss(self._answers, call)

    def save(self, call: Call, response: dict[str, Any]) -> None:
        """Write one answer now, not when the recording closes."""
        self._answers.save(call, response)

    def count_live(self) -> None:
        # Every live call comes here, so no lock: under the GIL nothing can run between the
        # load and the store of a plain int attribute (no call, no backward jump in between).
        self.stats.live += 1

    def call_sync(
        self,
        spec: KeySpec,
        wrapped: Callable[..., Any],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        async_stream: bool = False,
    ) -> Any:
        """A sync call; ``async_stream`` for async generator functions (called, not awaited)."""
        __tracebackhide__ = True  # a miss points at the caller's line in pytest
        if self._dropped:  # a safe point: no lock held here
            self._streams.finish_dropped()
        answers = self._answers  # the hot path calls it directly: no extra frame per call
        try:
            call = prepare_call(answers, self.settings, spec, instance, args, kwargs)
        except BaseException:
            # intercepted all the same: the caller gets the error, not "nothing recorded" too
            answers.refused = True
            raise
        if self._comparing is not None:
            self.count_live()
            return self._comparing.call_sync(
                call, wrapped, args, kwargs,
                policy=spec.store_errors, service=spec.service_errors, async_stream=async_stream,
            )  # fmt: skip
        if self.mode is not Mode.RECORD:
            found = answers.lookup(call)
            if found is not None:
                if self.settings.replay_timing is not None:  # at the recorded pace
                    time.sleep(wait_of(found[1], self.settings.replay_timing))
                return answers.replay(call, *found, async_stream=async_stream)
            if self.mode is Mode.REPLAY:
                raise self.miss(call)
        answers.going_live(call, instance)
        inside = IN_CALL.set(True)  # its SDK's requests are this call's (the httpx fallback)
        try:
            result = wrapped(*args, **kwargs)
        except Exception as error:
            answers.failed(call, error, spec.store_errors, service=spec.service_errors)
            raise
        except BaseException:  # cancelled or interrupted: no answer will ever come
            answers.abandon(call)
            raise
        finally:
            IN_CALL.reset(inside)
        keep, policy = self._streams.keep, spec.store_errors
        return finish_live(answers, keep, call, result, async_stream=async_stream, policy=policy)

    async def call_async(
        self,
        spec: KeySpec,
        wrapped: Callable[..., Awaitable[Any]],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        __tracebackhide__ = True  # a miss points at the caller's line in pytest
        if self._dropped:  # a safe point: no lock held here
            self._streams.finish_dropped()
        answers = self._answers  # the hot path calls it directly: no extra frame per call
        try:
            call = prepare_call(answers, self.settings, spec, instance, args, kwargs)
        except BaseException:
            # intercepted all the same: the caller gets the error, not "nothing recorded" too
            answers.refused = True
            raise
        if self._comparing is not None:
            self.count_live()
            return await self._comparing.call_async(
                call, wrapped, args, kwargs,
                policy=spec.store_errors, service=spec.service_errors,
            )  # fmt: skip
        if self.mode is not Mode.RECORD:
            found = answers.lookup(call)
            if found is not None:
                if self.settings.replay_timing is not None:  # at the recorded pace
                    await asyncio.sleep(wait_of(found[1], self.settings.replay_timing))
                return answers.replay(call, *found, async_stream=True)
            if self.mode is Mode.REPLAY:
                raise self.miss(call)
        answers.going_live(call, instance, await answers.hold_async(call))
        inside = IN_CALL.set(True)
        try:
            result = await wrapped(*args, **kwargs)
        except Exception as error:
            answers.failed(call, error, spec.store_errors, service=spec.service_errors)
            raise
        except BaseException:  # cancelled or interrupted: no answer will ever come
            answers.abandon(call)
            raise
        finally:
            IN_CALL.reset(inside)
        return finish_live(
            answers, self._streams.keep, call, result, async_stream=True, policy=spec.store_errors
        )

    def __repr__(self) -> str:
        return f"<apirec.Recording {str(self.settings.path)!r} mode={self.mode.value}>"
