"""Streams: results that arrive chunk by chunk (DESIGN §5).

Recording wraps the source: each chunk is encoded and handed to the caller as it arrives,
and the whole stream is stored once it ends. A caller that stops early does not shorten the
recording: closing the stream (``close``/``aclose``, leaving its ``with`` block), ending the
recording block, or dropping a sync stream drains the rest first.

This module tells streams apart from other results and records them; replay lives in
:mod:`apirec.streams.replay`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from apirec.codec.envelope import encode
from apirec.codec.exception_data import error_response
from apirec.errors import ApirecError

_NOT_STREAMS = (str, bytes, bytearray, memoryview, list, tuple, dict, set, frozenset)

# Called once per stream when it ends: (encoded chunks, the error that ended it or None).
OnEnd = Callable[[list[Any], Exception | None], None]


def is_stream(value: Any) -> bool:
    """True for generators, iterators and async iterators (openai's Stream and AsyncStream)."""
    if isinstance(value, _NOT_STREAMS):
        return False
    return isinstance(value, Iterator | AsyncIterator)


def is_async_stream(value: Any) -> bool:
    return isinstance(value, AsyncIterator)


# -- recording ----------------------------------------------------------------------------


class _Tape:
    """The chunks of one stream being recorded; ends exactly once."""

    __slots__ = ("chunks", "done", "error", "on_end")

    def __init__(self, on_end: OnEnd) -> None:
        self.chunks: list[Any] = []
        self.done = False
        self.error: Exception | None = None
        self.on_end = on_end

    def add(self, chunk: Any) -> None:
        # Encoded now: the caller may mutate the chunk after we hand it over.
        try:
            self.chunks.append(encode(chunk))
        except Exception:
            self.done = True  # abandoned: a stream with a hole in it is never stored
            raise

    def end(self, error: Exception | None = None) -> None:
        if not self.done:
            self.done = True
            self.error = error
            self.on_end(self.chunks, error)

    def is_source_error(self, error: Exception) -> bool:
        """True for the error that ended the stream (stored); false for a failure to store."""
        return error is self.error


class _Recorded:
    """What the sync and async recording streams share; other attributes are the source's."""

    def __init__(self, source: Any, on_end: OnEnd, function: str) -> None:
        self._source = source
        self._tape = _Tape(on_end)
        self.function = function

    @property
    def finished(self) -> bool:
        return self._tape.done

    def __getattr__(self, name: str) -> Any:
        # only called for names not found here: ``stream.response`` and the like
        source = self.__dict__.get("_source")
        if source is None:
            raise AttributeError(name)
        return getattr(source, name)


class RecordingStream(_Recorded):
    """A sync stream being recorded, chunk by chunk as the caller pulls."""

    def __init__(self, source: Any, on_end: OnEnd, function: str) -> None:
        super().__init__(source, on_end, function)
        self._iterator: Iterator[Any] = source if hasattr(source, "__next__") else iter(source)

    def __iter__(self) -> RecordingStream:
        return self

    def __next__(self) -> Any:
        tape = self._tape
        if tape.done:
            raise StopIteration
        try:
            chunk = next(self._iterator)
        except StopIteration:
            tape.end()
            raise
        except Exception as error:
            tape.end(error)
            raise
        tape.add(chunk)
        return chunk

    def drain(self) -> None:
        """Read and record the rest; an error of the source is stored, not raised."""
        try:
            while True:
                self.__next__()
        except StopIteration:
            pass
        except Exception as error:
            if not self._tape.is_source_error(error):
                raise

    def close(self) -> None:
        self.drain()
        close = getattr(self._source, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> RecordingStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A caller that broke out of its loop and dropped the stream: finish the recording.
        tape = self.__dict__.get("_tape")
        if tape is not None and not tape.done:
            self.drain()


class AsyncRecordingStream(_Recorded):
    """An async stream being recorded, chunk by chunk as the caller pulls."""

    def __init__(self, source: Any, on_end: OnEnd, function: str) -> None:
        super().__init__(source, on_end, function)
        self._iterator: AsyncIterator[Any] = (
            source if hasattr(source, "__anext__") else source.__aiter__()
        )

    def __aiter__(self) -> AsyncRecordingStream:
        return self

    async def __anext__(self) -> Any:
        tape = self._tape
        if tape.done:
            raise StopAsyncIteration
        try:
            chunk = await self._iterator.__anext__()
        except StopAsyncIteration:
            tape.end()
            raise
        except Exception as error:
            tape.end(error)
            raise
        tape.add(chunk)
        return chunk

    async def drain(self) -> None:
        """Read and record the rest; an error of the source is stored, not raised."""
        try:
            while True:
                await self.__anext__()
        except StopAsyncIteration:
            pass
        except Exception as error:
            if not self._tape.is_source_error(error):
                raise

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
    source: Any, function: str, *, async_stream: bool, save: Callable[[dict[str, Any]], None]
) -> RecordingStream | AsyncRecordingStream:
    """Wrap ``source`` so that its chunks are recorded and ``save(response)`` runs at its end.

    ``async_stream`` is what replay will hand out for this function; a source of the other
    kind could not be replayed faithfully, so it is refused before anything is read.
    """
    if is_async_stream(source) != async_stream:
        got, want = ("an async", "a sync") if async_stream is False else ("a sync", "an async")
        raise ApirecError(
            f"{function}() returned {got} iterator ({type(source).__name__}) where apirec "
            f"replays {want} one, so it cannot be recorded; return {want} iterator, or make "
            f"the function {'an async generator' if not async_stream else 'a generator'} "
            f"function"
        )

    def on_end(chunks: list[Any], error: Exception | None) -> None:
        save(stream_response(chunks, error))

    if async_stream:
        return AsyncRecordingStream(source, on_end, function)
    return RecordingStream(source, on_end, function)


def stream_response(chunks: list[Any], error: Exception | None) -> dict[str, Any]:
    """The stored ``response`` of a stream: its chunks, and the error that ended it if any."""
    response: dict[str, Any] = {"body": chunks, "is_streaming": True}
    if error is not None:
        response.update(error_response(error), body=chunks, is_streaming=True)
    return response


def drain_sync(streams: Iterable[_Recorded]) -> list[str]:
    """Finish the sync streams; return the functions of async ones that cannot be, here."""
    unfinished = []
    for stream in list(streams):
        if isinstance(stream, RecordingStream):
            stream.drain()
        elif not stream.finished:
            unfinished.append(stream.function)
    return unfinished


async def drain_async(streams: Iterable[_Recorded]) -> None:
    for stream in list(streams):
        if isinstance(stream, AsyncRecordingStream):
            await stream.drain()
