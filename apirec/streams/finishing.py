"""Finishing the streams a caller left open: nothing started inside a recording is lost.

The recording keeps every stream it records (its :class:`~apirec.streams.recording.Tape`)
until the stream has ended, and finishes the others at safe points: a sync stream the caller
dropped at the recording's next call, every stream when the block ends. Finishing reads the
rest within a bound (:class:`Bound`, chunks and seconds); a stream that cannot be finished
(the bound, an error while reading the rest, its event loop gone) is stored as far as it
went, marked truncated, with a warning that names the call. A finalizer never reads: it only
queues the stream (no lock, no I/O), since it may run anywhere, apirec's own locks included.
An async stream is also finished before its event loop closes its async generators
(:mod:`apirec.streams.loops`), since the rest can be read only in that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apirec.streams import loops
from apirec.streams.completeness import loop_ending, truncate
from apirec.streams.tape import Tape

DEFAULT_REST_CHUNKS = 10_000
DEFAULT_REST_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Bound:
    """How much of a stream's rest is read after the caller stopped: chunks and seconds."""

    chunks: int = DEFAULT_REST_CHUNKS
    seconds: float = DEFAULT_REST_SECONDS


class _BoundReached(Exception):
    pass


def _closed_behind_our_back(iterator: Any) -> bool:
    """A generator source that ended without us (closed by its event loop's shutdown)."""
    if inspect.isasyncgen(iterator):
        return iterator.ag_frame is None
    if inspect.isgenerator(iterator):
        return iterator.gi_frame is None
    return False


class OpenStreams:
    """The streams of one recording that have not ended yet, kept until they do."""

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self._tapes: set[Tape] = set()
        # sync streams whose caller dropped them: finished at the recording's next call
        self.dropped: deque[Tape] = deque()
        # finishing async streams that a sync block left in async code
        self._tasks: set[asyncio.Task[None]] = set()

    def keep(self, tape: Tape) -> None:
        tape.finisher = self
        tape.ended = self._tapes.discard
        if not tape.is_async:
            # deque.append: atomic, takes no lock, reads nothing; safe in a finalizer
            tape.on_drop = self.dropped.append
        elif tape.loop is not None:
            self.watch(tape.loop)
        self._tapes.add(tape)

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Finish this recording's streams read in ``loop`` before it closes its generators."""
        loops.watch(loop, self)

    async def finish_loop(self, loop: asyncio.AbstractEventLoop) -> list[Exception]:
        """``loop`` is about to close its async generators: finish the streams read in it."""
        errors: list[Exception] = []
        for tape in self.open():
            if tape.is_async and tape.loop is loop:
                try:
                    await self.finish_async(tape)
                except Exception as error:
                    errors.append(error)
        return errors

    def open(self) -> list[Tape]:
        return [tape for tape in list(self._tapes) if not tape.done]

    # -- sync ---------------------------------------------------------------------------

    def finish_dropped(self) -> None:
        """At a safe point (no apirec lock held): finish the sync streams callers dropped."""
        while self.dropped:
            try:
                tape = self.dropped.popleft()
            except IndexError:  # another thread took the last one
                return
            self.finish_sync(tape)

    def finish_sync(self, tape: Tape) -> None:
        """Read and store the rest of a sync stream, within the bound."""
        if tape.done or not tape.claim():
            return
        if _closed_behind_our_back(tape.iterator):
            truncate(tape, "its source was closed before the rest could be read")
            return
        bound = self.bound
        deadline = time.monotonic() + bound.seconds
        read = 0
        while True:
            if read >= bound.chunks or time.monotonic() > deadline:
                truncate(tape, self._bound_reason(read >= bound.chunks))
                _close_sync(tape.source)
                return
            # one reader at a time: a caller in another thread may be inside the source
            if not tape.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                truncate(tape, self._bound_reason(by_chunks=False))
                return  # not closed: that caller is still reading it
            try:
                if not tape.read_next_rest():
                    return
            finally:
                tape.lock.release()
            read += 1

    def _bound_reason(self, by_chunks: bool) -> str:
        limit = f"{self.bound.chunks:,} chunks" if by_chunks else f"{self.bound.seconds:g} s"
        return f"reading the rest after the caller stopped reached the bound of {limit}"

    def cut_all(self, error: BaseException) -> None:
        """Cancelled or interrupted: store every open stream as it is, reading nothing."""
        self.dropped.clear()
        for tape in self.open():
            if tape.claim():
                tape.cut(error)

    def finish_all_sync(self) -> list[Exception]:
        """Finish every open stream from sync code; the errors, once all were tried."""
        self.dropped.clear()
        errors: list[Exception] = []
        for tape in self.open():
            try:
                if tape.is_async:
                    self._finish_async_from_sync(tape)
                else:
                    self.finish_sync(tape)
            except Exception as error:
                errors.append(error)
        return errors

    def _finish_async_from_sync(self, tape: Tape) -> None:
        running = asyncio._get_running_loop()
        loop = tape.loop
        if running is not None and loop in (None, running):
            # Async code left a sync block: it cannot await here, so the rest is read in a
            # task on this loop, which runs as soon as the caller awaits anything.
            task = running.create_task(self._finish_in_task(tape))
            self._tasks.add(task)
            task.add_done_callback(lambda done: self._task_done(done, tape))
        elif loop is not None and not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(self.finish_async(tape))
        elif loop is None and running is None:  # never read in any loop: any loop will do
            asyncio.run(self.finish_async(tape))
        elif tape.claim():
            truncate(tape, "its event loop had ended before the rest could be read")

    async def _finish_in_task(self, tape: Tape) -> None:
        # Cancelled as the event loop shuts down: stored as it went, and the cut says so.
        await self.finish_async(tape)

    def _task_done(self, task: asyncio.Task[None], tape: Tape) -> None:
        self._tasks.discard(task)
        # cancelled before it ever ran (the event loop shut down at once): nothing claimed it
        if task.cancelled() and not tape.done and tape.claim():
            truncate(tape, "its event loop ended before the rest could be read")

    # -- async --------------------------------------------------------------------------

    async def finish_all_async(self) -> list[Exception]:
        """Finish every open stream from async code; the errors, once all were tried."""
        self.dropped.clear()
        errors: list[Exception] = []
        for tape in self.open():
            try:
                if tape.is_async:
                    await self.finish_async(tape)
                else:
                    self.finish_sync(tape)
            except Exception as error:
                errors.append(error)
        return errors

    async def finish_async(self, tape: Tape) -> None:
        """Read and store the rest of an async stream, within the bound."""
        if tape.done or not tape.claim():
            return
        running = asyncio._get_running_loop()
        if _closed_behind_our_back(tape.iterator):
            truncate(tape, "its source was closed before the rest could be read")
            return
        if tape.loop is not None and running is not None and tape.loop is not running:
            truncate(tape, "it was read in another event loop, where the rest must be read")
            return
        ending = loop_ending(tape)
        if ending is not None:  # what the stream wraps may be closed already, or now
            truncate(tape, ending)
            return
        # Under asyncio a source that never sends its next chunk is cut at the deadline too;
        # elsewhere (trio) the seconds are checked between chunks.
        timeout = asyncio.timeout(self.bound.seconds) if running is not None else None
        try:
            if timeout is None:
                await self._read_rest(tape)
            else:
                async with timeout:
                    await self._read_rest(tape)
            return
        except _BoundReached as reached:
            reason = self._bound_reason(by_chunks=reached.args == ("chunks",))
        except TimeoutError as error:
            if timeout is None or not timeout.expired():
                if tape.done:
                    raise
                tape.rest_failed(error)
                return
            reason = self._bound_reason(by_chunks=False)
        except Exception as error:
            if tape.done:  # a chunk that cannot be encoded, a failure to store: say so
                raise
            tape.rest_failed(error)
            return
        except BaseException as error:
            if not tape.done:
                tape.cut(error)
            raise
        truncate(tape, reason)
        await _close_async(tape.source)

    async def _read_rest(self, tape: Tape) -> None:
        bound = self.bound
        deadline = time.monotonic() + bound.seconds
        read = 0
        while True:
            if read >= bound.chunks:
                raise _BoundReached("chunks")
            if time.monotonic() > deadline:
                raise _BoundReached("seconds")
            async with tape.async_lock():  # one reader at a time: the caller may be in it
                if tape.done:  # the caller's own read ended it meanwhile
                    return
                try:
                    chunk = await tape.iterator.__anext__()
                except StopAsyncIteration:
                    tape.rest_ended()
                    return
                tape.read_rest(chunk)
            read += 1


def _close_sync(source: Any) -> None:
    close: Callable[[], Any] | None = getattr(source, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):  # best effort: the stream is stored already
            close()


async def _close_async(source: Any) -> None:
    close = getattr(source, "aclose", None) or getattr(source, "close", None)
    if callable(close):
        try:
            result = close()
            if inspect.isawaitable(result):
                await result
        except Exception:  # best effort: the stream is stored already
            pass
