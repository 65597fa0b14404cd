"""One stream being recorded: its source, its chunks, and who reads it (DESIGN §5).

The caller and apirec (reading the rest after the caller stopped,
:mod:`apirec.streams.finishing`) both read through the tape, one at a time, so a chunk is
recorded once and reaches the caller once, in the source's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from apirec.codec.envelope import encode
from apirec.errors import called
from apirec.streams.completeness import source_ended, truncate, warn_truncated

# True while an intercepted call runs its real function or its stream's source is read: a
# request its SDK makes then is that call's, which the httpx fallback must not record again
IN_CALL: ContextVar[bool] = ContextVar("apirec_in_call", default=False)

# Called once per stream when it ends: (chunks, the error that ended it, why it was cut);
# returns where it was stored (None: not stored).
OnEnd = Callable[[list[Any], Exception | None, str | None], str | None]


def interruption(error: BaseException) -> str:
    """Why a stream was cut by ``error`` (cancellation, Ctrl-C), for the stored mark."""
    return f"cut by {type(error).__name__}"


class Tape:
    """One stream being recorded: its source and the chunks so far; it ends exactly once.

    The recording keeps the tape (not the caller's stream object) until it ends, so a stream
    the caller dropped can still be finished; the caller's object only points at it.

    The source is read by one reader at a time (``lock``, and the async lock for an async
    source): the caller, or apirec reading the rest. The chunks apirec read are kept in
    ``unread`` and handed to a caller that reads on, then the source's real end or error, so
    the caller gets exactly what the source produced, in order.
    """

    __slots__ = (
        "_alock",
        "_claim",
        "chunks",
        "done",
        "ended",
        "error",
        "exhausted",
        "finisher",
        "function",
        "is_async",
        "iterator",
        "lock",
        "loop",
        "on_drop",
        "on_end",
        "rest_error",
        "source",
        "stored_in",
        "times",
        "unread",
    )

    def __init__(self, source: Any, on_end: OnEnd, function: str, *, is_async: bool) -> None:
        self.source = source
        self.is_async = is_async
        if is_async:
            self.iterator: Any = source if hasattr(source, "__anext__") else source.__aiter__()
        else:
            self.iterator = source if hasattr(source, "__next__") else iter(source)
        self.function = function
        self.chunks: list[Any] = []
        self.done = False
        self.error: Exception | None = None
        self.on_end = on_end
        self.on_drop: Callable[[Tape], None] | None = None
        self.ended: Callable[[Tape], None] | None = None
        # what reads the rest within the bound (apirec.streams.finishing.OpenStreams)
        self.finisher: Any = None
        # the event loop an async stream is read in: the only one its rest can be read in
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stored_in: str | None = None  # where it was stored, once it ended
        self.times: list[float] = []  # when each chunk came (perf_counter)
        self._claim = threading.Lock()
        self.lock = threading.RLock()  # one reader of the source at a time
        self._alock: asyncio.Lock | None = None
        self.unread: deque[Any] = deque()  # read by apirec, not yet handed to the caller
        self.exhausted = False  # the source ended: nothing comes after ``unread``
        self.rest_error: Exception | None = None  # ended the rest apirec read: the caller's

    def add(self, chunk: Any) -> None:
        self.times.append(time.perf_counter())  # when each chunk came, for the ledger
        # Encoded now: the caller may mutate the chunk after we hand it over.
        try:
            self.chunks.append(encode(chunk))
        except Exception:
            self.done = True  # abandoned: a stream with a hole in it is never stored
            raise

    def end(self, error: Exception | None = None, truncated: str | None = None) -> None:
        if not self.done:
            self.done = True
            self.error = error
            if self.ended is not None:
                self.ended(self)
            self.stored_in = self.on_end(self.chunks, error, truncated)

    def cut(self, error: BaseException) -> None:
        """Store what was received, marked truncated, and say so; ``error`` (a cancellation,
        Ctrl-C) goes on."""
        reason = interruption(error)
        try:
            self.end(truncated=reason)
            warn_truncated(self, reason)
        except Exception as failure:  # never hide the cancellation behind a failure to store
            # (or behind the warning, where warnings are errors: it becomes a note)
            error.add_note(f"apirec: the stream of {called(self.function)}: {failure}")

    def claim(self) -> bool:
        """True for the one finisher allowed to read the rest (threads may race to)."""
        return self._claim.acquire(blocking=False)

    def async_lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """One reader of an async source at a time; under trio (no asyncio loop), none."""
        if asyncio._get_running_loop() is None:
            return contextlib.nullcontext()
        if self._alock is None:
            self._alock = asyncio.Lock()
        return self._alock

    # -- the caller's reads ----------------------------------------------------------------

    def pull(self, step: Callable[[], Any]) -> Any:
        """The caller's next chunk: what apirec read for it first, else ``step()`` recorded."""
        with self.lock:
            if self.unread:
                return self.unread.popleft()
            if self.done:
                return self._after_end(step)
            inside = IN_CALL.set(True)  # the requests its source makes are its call's
            try:
                chunk = step()
            except StopIteration:
                self.exhausted = True
                source_ended(self)
                raise
            except Exception as error:
                self.end(error)
                raise
            except BaseException as error:  # Ctrl-C while the source was read
                self.cut(error)
                raise
            finally:
                IN_CALL.reset(inside)
            self.add(chunk)
            return chunk

    async def apull(self, step: Callable[[], Awaitable[Any]]) -> Any:
        """:meth:`pull` for an async source."""
        async with self.async_lock():
            if self.unread:
                return self.unread.popleft()
            if self.done:
                return await self._after_end_async(step)
            inside = IN_CALL.set(True)  # the requests its source makes are its call's
            try:
                chunk = await step()
            except StopAsyncIteration:
                self.exhausted = True
                source_ended(self)
                raise
            except Exception as error:
                self.end(error)
                raise
            except BaseException as error:  # cancelled (wait_for, cancel scopes) or Ctrl-C
                self.cut(error)
                raise
            finally:
                IN_CALL.reset(inside)
            self.add(chunk)
            return chunk

    def _after_end(self, step: Callable[[], Any]) -> Any:
        # Stored already: after what apirec read comes the source's end or error, or (a
        # stream cut or given up) the source itself, no longer recorded.
        error, self.rest_error = self.rest_error, None
        if error is not None:
            raise error
        if self.exhausted:
            raise StopIteration
        return step()

    async def _after_end_async(self, step: Callable[[], Awaitable[Any]]) -> Any:
        error, self.rest_error = self.rest_error, None
        if error is not None:
            raise error
        if self.exhausted:
            raise StopAsyncIteration
        return await step()

    # -- apirec reading the rest (apirec.streams.finishing), under the lock ---------------

    def read_next_rest(self) -> bool:
        """Read one more chunk of a sync source for the caller; False once the tape ended."""
        with self.lock:
            if self.done:  # the caller's own read ended it meanwhile
                return False
            try:
                chunk = next(self.iterator)
            except StopIteration:
                self.rest_ended()
                return False
            except Exception as error:
                self.rest_failed(error)
                return False
            except BaseException as error:
                self.cut(error)
                raise
            self.read_rest(chunk)
            return True

    def read_rest(self, chunk: Any) -> None:
        """A chunk apirec read after the caller stopped: recorded, and kept for the caller."""
        self.unread.append(chunk)
        self.add(chunk)

    def rest_ended(self) -> None:
        self.exhausted = True
        source_ended(self)

    def rest_failed(self, error: Exception) -> None:
        """Reading the rest raised: stored truncated; the caller that reads on gets it."""
        self.rest_error = error
        truncate(self, f"reading the rest raised {type(error).__name__}: {error}")
