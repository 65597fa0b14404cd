"""Streams: results that arrive chunk by chunk (DESIGN §5).

Recording wraps the source: each chunk is encoded and handed to the caller as it arrives,
and the whole stream is stored once it ends. A caller that stops early does not shorten the
recording: the rest is read (within a bound) when the stream is closed, when the recording
block ends, or, for a sync stream that was dropped, at the next call of the recording. A
stream cut by cancellation or Ctrl-C is stored as far as it went, marked truncated.

This module tells streams apart from other results and records them; finishing the streams a
caller left open lives in :mod:`apirec.streams.finishing`, replay in
:mod:`apirec.streams.replay`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from apirec.codec.exception_data import error_response
from apirec.errors import ApirecError, called
from apirec.streams.tape import Tape

_NOT_STREAMS = (str, bytes, bytearray, memoryview, list, tuple, dict, set, frozenset)

# Stores a stream's ``response``; returns where (a file) for the messages that name it.
# the response, and when each chunk came (perf_counter), for the ledger
Save = Callable[[dict[str, Any], list[float]], str | None]


def is_stream(value: Any) -> bool:
    """True for generators, iterators and async iterators (openai's Stream and AsyncStream)."""
    if isinstance(value, _NOT_STREAMS):
        return False
    return isinstance(value, Iterator | AsyncIterator)


def is_async_stream(value: Any) -> bool:
    return isinstance(value, AsyncIterator)


class _Recorded:
    """What the sync and async recording streams share; other attributes are the source's."""

    def __init__(self, tape: Tape) -> None:
        self._tape = tape
        self._source = tape.source
        self.function = tape.function

    @property
    def finished(self) -> bool:
        return self._tape.done

    def _source_method(self, name: str) -> Callable[..., Any]:
        method: Callable[..., Any] = getattr(self._source, name)  # AttributeError, as the SDK's
        return method

    def __getattr__(self, name: str) -> Any:
        # only called for names not found here: ``stream.response`` and the like
        source = self.__dict__.get("_source")
        if source is None:
            raise AttributeError(name)
        return getattr(source, name)

    def __del__(self) -> None:
        # Never read here: a finalizer may run inside any code, apirec's locks included.
        # The recording that keeps the tape finishes it at its next safe point.
        tape = self.__dict__.get("_tape")
        if tape is not None and not tape.done and tape.on_drop is not None:
            tape.on_drop(tape)


class RecordingStream(_Recorded):
    """A sync stream being recorded, chunk by chunk as the caller pulls."""

    def __iter__(self) -> RecordingStream:
        return self

    def __next__(self) -> Any:
        return self._tape.pull(self._tape.iterator.__next__)

    def send(self, value: Any) -> Any:
        """A generator's ``send``: its answer is recorded as the next chunk (the values sent
        are not part of the call's key; replay hands back the recorded answers)."""
        send = self._source_method("send")
        return self._tape.pull(lambda: send(value))

    def throw(self, *args: Any) -> Any:
        throw = self._source_method("throw")
        return self._tape.pull(lambda: throw(*args))

    def drain(self) -> None:
        """Read and record the rest, within the recording's bound."""
        self._tape.finisher.finish_sync(self._tape)

    def close(self) -> None:
        self.drain()
        close = getattr(self._source, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> RecordingStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncRecordingStream(_Recorded):
    """An async stream being recorded, chunk by chunk as the caller pulls."""

    def __aiter__(self) -> AsyncRecordingStream:
        return self

    async def __anext__(self) -> Any:
        return await self._pull(self._tape.iterator.__anext__)

    async def asend(self, value: Any) -> Any:
        """An async generator's ``asend``: recorded like :meth:`RecordingStream.send`."""
        asend = self._source_method("asend")
        return await self._pull(lambda: asend(value))

    async def athrow(self, *args: Any) -> Any:
        athrow = self._source_method("athrow")
        return await self._pull(lambda: athrow(*args))

    async def _pull(self, step: Callable[[], Awaitable[Any]]) -> Any:
        tape = self._tape
        if tape.loop is None and not tape.done:
            tape.loop = loop = asyncio._get_running_loop()  # None under trio
            if loop is not None and tape.finisher is not None:
                tape.finisher.watch(loop)  # finished before this loop closes its generators
        return await tape.apull(step)

    async def drain(self) -> None:
        """Read and record the rest, within the recording's bound."""
        await self._tape.finisher.finish_async(self._tape)

    async def aclose(self) -> None:
        await self.drain()
        close = getattr(self._source, "aclose", None) or getattr(self._source, "close", None)
        if callable(close):
            result = close()
            if inspect.isawaitable(result):
                await result

    close = aclose  # openai's AsyncStream spells it ``await stream.close()``

    async def __aenter__(self) -> AsyncRecordingStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def record_stream(
    source: Any,
    function: str,
    *,
    async_stream: bool,
    save: Save,
    keep: Callable[[Tape], None],
    fail: Callable[[Exception, dict[str, Any]], None] | None = None,
) -> RecordingStream | AsyncRecordingStream:
    """Wrap ``source`` so that its chunks are recorded and ``save(response)`` runs at its end.

    ``keep(tape)`` hands the tape to the recording, which holds it until it ends. A stream
    that ended with an error the caller saw goes to ``fail(error, response)`` instead, when
    given: the recorder's error policy decides whether it is stored.
    ``async_stream`` is what replay will hand out for this function; a source of the other
    kind could not be replayed faithfully, so it is refused before anything is read.
    """
    if is_async_stream(source) != async_stream:
        got, want = ("an async", "a sync") if async_stream is False else ("a sync", "an async")
        raise ApirecError(
            f"{called(function)} returned {got} iterator ({type(source).__name__}) where apirec "
            f"replays {want} one, so it cannot be recorded; return {want} iterator, or make "
            f"the function {'an async generator' if not async_stream else 'a generator'} "
            f"function"
        )

    def on_end(chunks: list[Any], error: Exception | None, truncated: str | None) -> str | None:
        response = stream_response(chunks, error, truncated)
        if error is not None and fail is not None:
            fail(error, response)
            return None
        return save(response, tape.times)

    tape = Tape(source, on_end, function, is_async=async_stream)
    if async_stream:
        tape.loop = asyncio._get_running_loop()  # None when called from sync code
    keep(tape)
    if async_stream:
        return AsyncRecordingStream(tape)
    return RecordingStream(tape)


def stream_response(
    chunks: list[Any], error: Exception | None, truncated: str | None = None
) -> dict[str, Any]:
    """The stored ``response`` of a stream: its chunks, the error that ended it if any, and
    ``truncated``/``truncated_reason`` when it was cut before its end."""
    response: dict[str, Any] = {"body": chunks, "is_streaming": True}
    if error is not None:
        response.update(error_response(error), body=chunks, is_streaming=True)
    if truncated is not None:
        response["truncated"] = True
        response["truncated_reason"] = truncated
    return response
