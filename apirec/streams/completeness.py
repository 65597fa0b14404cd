"""When a recorded stream is complete: only when its source ended (DESIGN §13).

Every path that sees a source end (the caller's loop, reading the rest after the caller
stopped, sync or async, any integration) passes :func:`source_ended`, which stores the stream
as complete only if that end is the source's own. An end seen after the event loop began
closing its async generators (:func:`apirec.streams.loops.shutting_down`) may be one of the
generators the stream wraps closed from outside: such a stream is stored as far as it went,
marked truncated, with a warning naming the call and its file. Transient failures are not a
matter of completeness: the recorder does not store them at all (``store_errors=``).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Protocol

from apirec.codec.envelope import TYPE
from apirec.codec.type_resolution import OWN, Unresolvable, resolve
from apirec.errors import called
from apirec.streams.loops import shutting_down

# Set (True) on a class of apirec's own whose instances an integration stores ahead of a
# stream's events and its caller never sees (an SDK stream's HTTP head): not counted as chunks
STREAM_HEAD = "apirec_stream_head"


class Tape(Protocol):
    """What is judged of a stream being recorded (:class:`apirec.streams.recording.Tape`; a
    protocol, as that module calls this one)."""

    is_async: bool
    loop: asyncio.AbstractEventLoop | None
    function: str
    chunks: list[Any]
    stored_in: str | None

    def end(self, error: Exception | None = None, truncated: str | None = None) -> None: ...


def source_ended(tape: Tape) -> None:
    """The source raised StopIteration / StopAsyncIteration: store the stream as complete,
    or truncated when that end may not be its own."""
    reason = loop_ending(tape)
    if reason is None:
        tape.end()
    else:
        truncate(tape, f"{reason}, so the end seen may not be the stream's own")


def loop_ending(tape: Tape) -> str | None:
    """Why the rest of ``tape`` can no longer be read truly: its event loop has closed, or
    begun closing, its async generators (those the stream wraps among them). None if not."""
    loop = tape.loop
    if tape.is_async and loop is not None and shutting_down(loop):
        return "its event loop closed its async generators before the rest could be read"
    return None


def truncate(tape: Tape, reason: str) -> None:
    """Store what was received, marked truncated, and say so."""
    tape.end(truncated=reason)
    warn_truncated(tape, reason)


def caller_chunks(chunks: list[Any]) -> int:
    """How many of a stream's stored (encoded) ``chunks`` its caller sees: all but the heads
    it starts with (:data:`STREAM_HEAD`)."""
    heads = 0
    for chunk in chunks:
        name = chunk.get(TYPE) if isinstance(chunk, dict) else None
        if not isinstance(name, str) or not name.startswith(OWN + "."):
            break
        try:
            if not getattr(resolve(name), STREAM_HEAD, False):
                break
        except Unresolvable:
            break
        heads += 1
    return len(chunks) - heads


def warn_truncated(tape: Tape, reason: str) -> None:
    where = f" in {tape.stored_in}" if tape.stored_in else ""
    warnings.warn(
        f"apirec: the stream of {called(tape.function)} was stored truncated{where} after "
        f"{caller_chunks(tape.chunks):,} chunks: {reason}; replaying past its end raises "
        f"apirec.IncompleteRecording",
        RuntimeWarning,
        stacklevel=3,
    )
