"""Which recording and which test a call belongs to.

Both are found through a ContextVar, with a process-wide fallback: a recording activated in a
session-scoped fixture must still see calls made from tasks, threads and clients created
before it, whose contexts were copied when it was not yet set. These stacks (and the replay
errors a server carries back to the test it serves, found the same way), the observers of
closing recordings (apirec.record.closing), the record of patched attributes
(apirec.record.wrapping) and the network guard (apirec.guard.core, with the recorded hosts
it reads, apirec.record.recorded_hosts) are the only module-level mutable state in apirec,
each process-wide for that same reason.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from apirec.record.modes import Mode

if TYPE_CHECKING:  # the pytest plugin's start-up imports this module: it must stay light
    from apirec.keys.spec import KeySpec

T = TypeVar("T")
_LOG = logging.getLogger("apirec.servers")


class ActiveRecording(Protocol):
    """What a wrapped call needs of the recording it goes to (``Recording`` is one).

    Written here so that this module, which the wrappers read on every call, never imports
    the recorder, which imports the wrappers."""

    mode: Mode
    is_open: bool
    # live mode with no record budget: calls go straight to the real function
    passes_through: bool

    def count_live(self) -> None: ...

    def call_sync(
        self,
        spec: KeySpec,
        wrapped: Callable[..., Any],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        async_stream: bool = False,
    ) -> Any: ...

    def call_async(
        self,
        spec: KeySpec,
        wrapped: Callable[..., Awaitable[Any]],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Awaitable[Any]: ...


class _Scoped(Generic[T]):
    """A ContextVar plus a process-wide stack of the values currently entered."""

    def __init__(self, name: str) -> None:
        self.var: ContextVar[T | None] = ContextVar(name, default=None)
        self.stack: list[T] = []
        self.lock = threading.Lock()

    def get(self) -> T | None:
        value = self.var.get()
        if value is not None and value in self.stack:
            return value
        stack = self.stack
        return stack[-1] if stack else None

    def enter(self, value: T) -> Token[T | None]:
        with self.lock:
            self.stack.append(value)
        return self.var.set(value)

    def exit(self, value: T, token: Token[T | None] | None) -> None:
        with self.lock:
            for i in range(len(self.stack) - 1, -1, -1):
                if self.stack[i] is value:
                    del self.stack[i]
                    break
        if token is not None:
            # ValueError: exited from another context (an async fixture's teardown)
            with contextlib.suppress(ValueError):
                self.var.reset(token)


class Carried:
    """The replay errors (misses, blocked connections) raised while a server serves one
    test's request, for ``apirec.servers`` to send back to that test (at most 100)."""

    __slots__ = ("errors", "test_id")

    def __init__(self, test_id: str = "") -> None:
        self.test_id = test_id
        self.errors: list[BaseException] = []


_recordings: _Scoped[ActiveRecording] = _Scoped("apirec_recording")
_tests: _Scoped[str] = _Scoped("apirec_test_id")
# compared by identity: a request's own, found like its test id (tasks, then the fallback)
_carried: _Scoped[Carried] = _Scoped("apirec_carried")


def active_recording() -> ActiveRecording | None:
    """The recording that calls made here go to, if any."""
    var_value = _recordings.var.get()
    if var_value is not None and var_value.is_open:
        return var_value
    stack = _recordings.stack
    return stack[-1] if stack else None


def open_recordings() -> list[ActiveRecording]:
    """The recordings open now, anywhere in the process (the innermost last)."""
    with _recordings.lock:
        return list(_recordings.stack)


def recording_lookup() -> tuple[Callable[[], ActiveRecording | None], list[ActiveRecording]]:
    """The two places :func:`active_recording` looks, for the wrapper to inline: the
    ContextVar's ``get`` and the process-wide stack (a recording is active in the context
    when it is also open; otherwise the top of the stack is)."""
    return _recordings.var.get, _recordings.stack


def enter_recording(rec: ActiveRecording) -> Token[ActiveRecording | None]:
    return _recordings.enter(rec)


def exit_recording(rec: ActiveRecording, token: Token[ActiveRecording | None] | None) -> None:
    _recordings.exit(rec, token)


# Set in a server's context outside any request (its start-up, lifespan): tasks started there
# belong to no test, never to the request being served (no fallback to the stack). Told by
# identity; never on the stack.
_OUTSIDE = "\x00apirec: outside any request"


def current_test_id() -> str | None:
    """The test id set by :func:`test_context` (the key's scope), or None."""
    value = _tests.var.get()
    if value == "" or value is _OUTSIDE:
        # test_context(None), also in a task or thread started there that runs after the
        # block ended (a stack's background refresh), or a server's start-up outside any
        # request: no test, not the one running now
        return None
    return _tests.get() or None  # "" is test_context(None): no test


def in_test_context() -> bool:
    """Whether this very context (not the process-wide fallback) is inside a test's context
    still entered: code served in-process inside a test (Starlette's TestClient, httpx's
    ``ASGITransport``) rather than over a server's connection."""
    value = _tests.var.get()
    return bool(value) and value is not _OUTSIDE and value in _tests.stack


@contextmanager
def outside_requests() -> Iterator[None]:
    """A server's start-up (ASGI lifespan): what it starts belongs to no test, even while
    requests of tests are served later."""
    token = _tests.var.set(_OUTSIDE)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            _tests.var.reset(token)


@contextmanager
def test_context(test_id: str | None) -> Iterator[str | None]:
    """Set the test id that scopes keys: identical calls in two tests are recorded apart.

    The pytest plugin does this for each test (with its node id); use it directly elsewhere.
    ``test_context(None)`` makes the block belong to no test, even inside one, and so do the
    tasks and threads started in it, whenever they run: session-level setup (a stack's
    background refreshes), or recordings made outside any test (llama-stack's
    ``"test_id": null``).
    """
    if test_id is not None and (not isinstance(test_id, str) or not test_id):
        raise TypeError("test_context() needs a non-empty string test id, or None for no test")
    value = test_id or ""
    token = _tests.enter(value)
    try:
        yield test_id
    finally:
        _tests.exit(value, token)


class Serving:
    """A server's request of ``test_id`` (None: no test): ``test_context(test_id)`` and, for a
    test, the replay errors raised meanwhile collected in a :class:`Carried` (its tasks'
    too). One object, not two generators: it runs once per request served."""

    __slots__ = ("_carried_token", "_test_token", "carried", "value")

    def __init__(self, test_id: str | None) -> None:
        self.value = test_id or ""
        self.carried = Carried(test_id) if test_id else None

    def __enter__(self) -> Carried | None:
        self._test_token = _tests.enter(self.value)
        if self.carried is not None:
            self._carried_token = _carried.enter(self.carried)
        return self.carried

    def __exit__(self, *exc_info: object) -> None:
        if self.carried is not None:
            _carried.exit(self.carried, self._carried_token)
        _tests.exit(self.value, self._test_token)


def note_replay_error(error: BaseException) -> None:
    """A replay error was raised here: kept for the request being served, if any (cheap
    otherwise: every miss passes here)."""
    if not _carried.stack:
        return
    test_id = current_test_id()
    if test_id is None:
        return  # no test's: the server's recording counts it
    carried = _carried.var.get()
    if carried is None or carried.test_id != test_id or carried not in _carried.stack:
        # a task that outlived its request, or a thread with no context: only a request of
        # the test its call was keyed under may carry the error back
        with _carried.lock:
            carried = next((c for c in reversed(_carried.stack) if c.test_id == test_id), None)
    if carried is None:
        _LOG.error(
            "apirec: a replay error of test %s, raised while no request of that test was "
            "being served, cannot be sent back to it:\n%s",
            test_id,
            error,
        )
    elif len(carried.errors) < 100:
        carried.errors.append(error)
