"""The recorder: one active recording, its store, sequences and counts.

For each call it computes the key, picks the n-th stored answer for that key (the last one
again past the end), or calls through and stores the answer as soon as it is known.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import operator
import os
import threading
import time
import warnings
import weakref
from collections.abc import Awaitable, Callable, Iterable
from contextvars import Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .codec import encode
from .context import current_test_id, enter_recording, exit_recording
from .diagnostics import recording_not_found
from .errors import DecodeError, RecordingNotFound, StoreError
from .exceptions import error_response, raise_recorded, rebuild_error
from .files import record_start
from .keying import Elsewhere, Keying, find_elsewhere, write_named
from .keys import KeySpec
from .modes import Mode
from .plans import FirstReplay, LazyPlans, Plan, prepare
from .settings import Settings
from .store import Entry, JsonStore, Store
from .streams import drain_async, drain_sync, is_stream, record_stream, replay_stream

if TYPE_CHECKING:
    from .wrapping import Patch

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Stats:
    """What happened to the calls of one recording."""

    replayed: int = 0
    recorded: int = 0
    live: int = 0
    missed: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    """One intercepted call, keyed: the n-th call (``index``) with this ``key``."""

    function: str
    key: str
    index: int
    arguments: dict[str, Any]
    test_id: str | None
    # set when the function is keyed by another format (apirec.keying): its stored request
    request: dict[str, Any] | None = None
    keying: Keying | None = None


@dataclass
class _KeyState:
    counter: itertools.count[int] = field(default_factory=itertools.count)
    stored: int | None = None  # number of stored answers, once probed
    reset_done: bool = False


def _interrupted(exc_info: tuple[object, ...]) -> bool:
    """Leaving on cancellation or Ctrl-C: no time to read the rest of open streams."""
    error = exc_info[1] if len(exc_info) > 1 else None
    return isinstance(error, BaseException) and not isinstance(error, Exception)


def open_store(settings: Settings) -> Store:
    if settings.store == "msgpack":
        from .store_msgpack import MsgpackStore

        return MsgpackStore(settings.path)
    return JsonStore(settings.path)


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
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings.build(
            path,
            mode=mode,
            store=store,
            trusted_modules=trusted_modules,
            strict_types=strict_types,
            test_id=test_id,
        )
        self.mode = self.settings.mode
        self.stats = Stats()
        self.misses: list[RecordingNotFound] = []
        self.used: set[tuple[str, int]] = set()
        # (event, function, key) per call, in order: for reports and the demo
        self.journal: list[tuple[str, str, str]] = []
        self._store: Store | None = None
        self._keys: dict[str, _KeyState] = {}
        self._entries: dict[tuple[str, int], Entry] = {}
        # where answers found under other names or keys (apirec.keying) were read from
        self._found_at: dict[tuple[str, int], Elsewhere] = {}
        # How each stored answer is decoded: None after its first replay, then a plan
        self._plans: dict[tuple[str, int], Plan | LazyPlans | None] = {}
        self._once = FirstReplay(self.settings.trusted_modules, self.settings.strict_types)
        self._lock = threading.Lock()
        self._depth = 0
        self._tokens: list[Token[Recording | None] | None] = []
        self._patches: list[Patch] = []
        # Streams being recorded, finished (drained) when the recording closes.
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self._started = time.time()
        self.is_open = False

    # -- activation ---------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    def __enter__(self) -> Recording:
        with self._lock:
            if self._depth == 0:
                # record mode replaces only answers written before this moment
                self._started = record_start() if self.mode is Mode.RECORD else time.time()
                self._keys.clear()  # each activation starts its sequences afresh
                self.is_open = True
            self._depth += 1
        self._tokens.append(enter_recording(self))
        return self

    def __exit__(self, *exc_info: object) -> None:
        token = self._tokens.pop() if self._tokens else None
        with self._lock:
            self._depth -= 1
            closing = self._depth == 0
        if closing:
            try:
                if not _interrupted(exc_info):
                    self._finish_streams()
            finally:
                while self._patches:
                    self._patches.pop().stop()
                self.is_open = False
                exit_recording(self, token)
        else:
            exit_recording(self, token)

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        if self._depth == 1 and not _interrupted(exc_info):
            with self._lock:
                streams = list(self._streams)
            await drain_async(streams)
        self.__exit__(*exc_info)

    def _finish_streams(self) -> None:
        """Store the streams the caller left unfinished: a stopped caller still records all."""
        with self._lock:
            streams = list(self._streams)
        unfinished = drain_sync(streams)
        if unfinished:
            warnings.warn(
                f"apirec: the async stream of {', '.join(unfinished)}() was not finished when "
                f"the recording closed, so it is stored only once the stream is closed; close "
                f"it (aclose() or 'async with'), or leave the recording with 'async with'",
                RuntimeWarning,
                stacklevel=3,
            )

    def __call__(self, func: F) -> F:
        """Use the recording as a decorator: active for each call of ``func``."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self:
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def patch(self, target: str, **options: Any) -> Patch:
        """Wrap ``target`` (``"pkg.module.Class.method"``) until this recording closes."""
        from .wrapping import Patch

        return self.start_patch(Patch(target, **options))

    def start_patch(self, patch: Patch) -> Patch:
        """Start ``patch`` (a ``Patch`` or an integration's subclass) until this closes."""
        patch.start()
        self._patches.append(patch)
        return patch

    # -- calls ----------------------------------------------------------------------------

    def _state(self, key: str) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            with self._lock:
                state = self._keys.setdefault(key, _KeyState())
        return state

    def prepare(
        self, spec: KeySpec, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Call:
        test_id = self.settings.test_id or current_test_id()
        keying = spec.keying
        if keying is not None:
            key, request = keying.key(spec, instance, args, kwargs, test_id)
            index = next(self._state(key).counter)
            body = request.get("body")
            arguments = dict(body) if isinstance(body, dict) else {}
            return Call(spec.name, key, index, arguments, test_id, request, keying)
        bound = spec.bind(instance, args, kwargs)
        for_key, for_store = spec.canonical(bound)
        key = spec.key(for_key, test_id)
        index = next(self._state(key).counter)
        return Call(spec.name, key, index, for_store, None if spec.shared else test_id)

    def lookup(self, call: Call) -> tuple[int, Entry] | None:
        """The stored answer for this call under the current mode, or None."""
        state = self._state(call.key)
        cached = self._entries.get((call.key, call.index))
        if cached is not None:
            return call.index, cached
        if state.stored is None:
            state.stored = self.store.count(call.key)
            if not state.stored and call.keying is not None:
                found = find_elsewhere(
                    self.store, call.keying, call.key, call.request, call.test_id
                )
                if found is not None:
                    state.stored = 1
                    self._entries[(call.key, 0)], self._found_at[(call.key, 0)] = found
        stored = state.stored
        if call.index < stored:
            slot = call.index
        elif self.mode is Mode.REPLAY and stored:
            slot = stored - 1  # past the end: the last answer again
        else:
            return None
        entry = self._entries.get((call.key, slot))
        if entry is None:
            entry = self.store.read(call.key, slot)
            if entry is None:  # removed since it was counted
                state.stored = None
                return None
            self._entries[(call.key, slot)] = entry
        return slot, entry

    def replay(self, call: Call, slot: int, entry: Entry, *, async_stream: bool = False) -> Any:
        """Rebuild the stored answer (fresh objects) or raise the stored exception.

        A stored stream comes back as a stream (async when ``async_stream``) that decodes
        its chunks one at a time, then raises the stored error if it ended with one.
        """
        self._count_event("replayed", call)
        self.used.add((call.key, slot))
        elsewhere = self._found_at.get((call.key, slot))
        if elsewhere is not None:  # the files it came from are used (not pruned as unused)
            self.used.update((listed, 0) for listed in elsewhere.keys)
        key = (call.key, slot)
        with self._lock:  # one first replay per answer, also among threads
            known = key in self._plans
            plans = self._plans.get(key)
            if not known:
                self._plans[key] = None
        if known and (plans is None or (isinstance(plans, LazyPlans) and plans.lent)):
            # The first replay handed out objects that may hold parts of the cached entry
            # (no copy: most answers are replayed once). From now on, decode a copy of the
            # stored recording that no caller has seen.
            entry, plans = self._pristine(call, slot, entry), None
        response = entry["response"]
        if response.get("is_streaming"):
            return self._replay_stream(call, slot, response, async_stream, plans, first=not known)
        if response.get("is_exception"):
            data = response.get("exception_data")
            if call.keying is not None and isinstance(data, dict):
                raise self._format_error(call, data, self._where(call, slot))
            raise_recorded(response, self.settings.trusted_modules, self._where(call, slot))
        try:
            if callable(plans):
                return plans()
            if not known:  # the first replay: decode plainly, lending the cached payload
                return self._once(response["body"])
            made, value = self._prepare(response["body"])  # replayed again: worth a plan
            self._plans[key] = made
            return value
        except DecodeError as e:
            raise e.located(file=self._where(call, slot)) from e.__cause__

    def _where(self, call: Call, slot: int) -> str:
        elsewhere = self._found_at.get((call.key, slot))
        return elsewhere.where if elsewhere else self.store.describe(call.key, slot)

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

    def _prepare(self, body: Any) -> tuple[Plan, Any]:
        settings = self.settings
        return prepare(
            body, trusted_modules=settings.trusted_modules, strict_types=settings.strict_types
        )

    def _replay_stream(
        self,
        call: Call,
        slot: int,
        response: dict[str, Any],
        async_stream: bool,
        plans: Plan | LazyPlans | None,
        *,
        first: bool,
    ) -> Any:
        """A stream over the stored chunks, each decoded only when the caller asks for it
        (plainly the first time, then by a plan kept for the next replays)."""
        trusted = self.settings.trusted_modules
        data = response.get("exception_data") if response.get("is_exception") else None
        error = None
        if data is not None:
            where = self._where(call, slot)
            if isinstance(data, dict) and call.keying is not None:
                error = functools.partial(self._format_error, call, data, where)
            else:
                error = functools.partial(rebuild_error, data, trusted, where)
        if not isinstance(plans, LazyPlans):
            body = response["body"]
            chunks = body if isinstance(body, list) else []
            locate = functools.partial(self._where, call, slot)
            once = self._once if first else None
            plans = LazyPlans(chunks, once, self._prepare, locate)
            self._plans[(call.key, slot)] = plans
        return replay_stream(plans.plans, operator.call, error, async_stream=async_stream)

    def _format_error(self, call: Call, data: dict[str, Any], where: str) -> BaseException:
        """A recorded exception rebuilt by the call's keying if it knows the format."""
        error = call.keying.error(call.request or {}, data) if call.keying is not None else None
        if error is not None:
            return error
        return rebuild_error(data, self.settings.trusted_modules, where)

    def miss(self, call: Call) -> RecordingNotFound:
        self._count_event("missed", call)
        error = recording_not_found(
            function=call.function,
            key=call.key,
            arguments=call.arguments,
            location=self.store.location,
            test_id=call.test_id,
            # scanning for the closest call reads the store: only for the first few misses
            store=self.store if len(self.misses) < 3 else None,
            record_command=self.settings.extra.get("record_command"),
        )
        self.misses.append(error)
        return error

    def save(self, call: Call, response: dict[str, Any]) -> None:
        """Write one answer now, not when the recording closes."""
        try:
            self._save(call, response)
        except StoreError as e:  # say that the call itself was made: it may have cost money
            raise StoreError(
                f"{call.function}() was called, but its answer could not be stored: {e}",
                path=e.path,
            ) from None

    def _save(self, call: Call, response: dict[str, Any]) -> None:
        state = self._state(call.key)
        if self.mode is Mode.RECORD and not state.reset_done:
            with self._lock:
                if not state.reset_done:
                    # Answers from before this recording began go; those that other
                    # processes write while it runs stay.
                    self.store.reset(call.key, older_than=self._started)
                    reset_other = getattr(self.store, "reset_other_names", None)
                    if call.keying is not None and reset_other is not None:
                        reset_other(call.key, older_than=self._started)  # an outdated model list
                    state.reset_done = True
                    state.stored = 0
        name = None
        if call.keying is not None and call.request is not None:
            request = call.request
            response, name = call.keying.stored(call.key, request, response)
        else:
            request = {"function": call.function, "args": encode(call.arguments), "key": call.key}
        entry: Entry = {
            "test_id": call.test_id,
            "request": request,
            "response": response,
            "id_normalization_mapping": {},
        }
        listed = None  # a file named by the keying, under this key in the store's listing
        if name is None:
            # The first free slot, also in record-if-missing: a call cancelled before its answer
            # was stored must not leave a hole that hides the answers after it.
            slot = self.store.write(call.key, entry)
        else:
            listed, slot = write_named(self.store, name, entry), 0
        with self._lock:
            if listed is not None:
                self.used.add((listed, 0))
            self._entries[(call.key, slot)] = entry
            self._plans.pop((call.key, slot), None)
            if state.stored is not None:
                state.stored = max(state.stored, slot + 1)
            self.used.add((call.key, slot))
            self.stats.recorded += 1
            self.journal.append(("recorded", call.function, call.key))

    def _count_event(self, what: str, call: Call | None = None) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)
            if call is not None:
                self.journal.append((what, call.function, call.key))

    def count_live(self) -> None:
        # Every live call comes here, so no lock: under the GIL nothing can run between the
        # load and the store of a plain int attribute (no call, no backward jump in between).
        self.stats.live += 1

    # -- the two call paths ---------------------------------------------------------------

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
        call = self.prepare(spec, instance, args, kwargs)
        if self.mode is not Mode.RECORD:
            found = self.lookup(call)
            if found is not None:
                return self.replay(call, *found, async_stream=async_stream)
            if self.mode is Mode.REPLAY:
                raise self.miss(call)
        try:
            result = wrapped(*args, **kwargs)
        except Exception as error:
            self.save(call, error_response(error))
            raise
        return self._finish(call, result, async_stream=async_stream)

    async def call_async(
        self,
        spec: KeySpec,
        wrapped: Callable[..., Awaitable[Any]],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        __tracebackhide__ = True  # a miss points at the caller's line in pytest
        call = self.prepare(spec, instance, args, kwargs)
        if self.mode is not Mode.RECORD:
            found = self.lookup(call)
            if found is not None:
                return self.replay(call, *found, async_stream=True)
            if self.mode is Mode.REPLAY:
                raise self.miss(call)
        try:
            result = await wrapped(*args, **kwargs)
        except Exception as error:
            self.save(call, error_response(error))
            raise
        return self._finish(call, result, async_stream=True)

    def _finish(self, call: Call, result: Any, *, async_stream: bool) -> Any:
        if is_stream(result):
            stream = record_stream(
                result,
                call.function,
                async_stream=async_stream,
                # no reference to the stream here: a dropped sync stream is freed (and
                # drained) at once, not by the cycle collector
                save=lambda response: self.save(call, response),
            )
            with self._lock:
                self._streams.add(stream)
            return stream
        self.save(call, {"body": encode(result), "is_streaming": False})
        return result

    def __repr__(self) -> str:
        return f"<apirec.Recording {str(self.settings.path)!r} mode={self.mode.value}>"
