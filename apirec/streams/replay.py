"""Replayed streams: the stored chunks of a stream given back chunk by chunk (DESIGN §5).

Replay gives a small object over the stored chunks that decodes one chunk per step, so the
first chunk costs one decode whatever the length of the stream. The sync and async twins
share :class:`_Replay` and differ only in the protocol they speak. Recording a stream lives in
:mod:`apirec.streams.recording`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from apirec.errors import DecodeError


class _Replay:
    """Stored chunks, decoded one per step, then the stored error if the stream had one."""

    __slots__ = ("_chunks", "_closed", "_decode", "_error", "_position")

    def __init__(
        self,
        chunks: list[Any],
        decode: Callable[[Any], Any],
        error: Callable[[], BaseException] | None = None,
    ) -> None:
        self._chunks = chunks
        self._decode = decode
        self._error = error
        self._position = 0
        self._closed = False

    def _step(self) -> tuple[bool, Any]:
        """(True, next chunk) or (False, None) at the end; raises the recorded error once."""
        position = self._position
        if self._closed or position >= len(self._chunks):
            error, self._error = self._error, None
            if error is not None and not self._closed:
                self._closed = True
                raise error()
            return False, None
        self._position = position + 1
        try:
            return True, self._decode(self._chunks[position])
        except DecodeError as e:
            raise e.located(prefix=f"$[{position}]") from e.__cause__

    def _close(self) -> None:
        self._closed = True

    def __getattr__(self, name: str) -> Any:
        # Only for names not found: say why the SDK stream's extras (``.response``) are absent.
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}: a replayed stream "
            f"carries only the recorded chunks, not the live objects of the recorded one"
        )


class ReplayStream(_Replay):
    """A replayed sync stream: ``for``, ``with`` and ``close()``, like the recorded one."""

    __slots__ = ()

    def __iter__(self) -> ReplayStream:
        return self

    def __next__(self) -> Any:
        position = self._position
        if not self._closed and position < len(self._chunks):  # the common case, inlined
            self._position = position + 1
            try:
                return self._decode(self._chunks[position])
            except DecodeError as e:
                raise e.located(prefix=f"$[{position}]") from e.__cause__
        more, chunk = self._step()
        if not more:
            raise StopIteration
        return chunk

    def send(self, value: Any) -> Any:
        """A recorded generator's ``send``: the recorded answer (sent values are not keyed)."""
        return self.__next__()

    def close(self) -> None:
        self._close()

    def __enter__(self) -> ReplayStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()


class AsyncReplayStream(_Replay):
    """A replayed async stream: ``async for``, ``async with``, ``aclose()`` / ``close()``."""

    __slots__ = ()

    def __aiter__(self) -> AsyncReplayStream:
        return self

    async def __anext__(self) -> Any:
        position = self._position
        if not self._closed and position < len(self._chunks):  # the common case, inlined
            self._position = position + 1
            try:
                return self._decode(self._chunks[position])
            except DecodeError as e:
                raise e.located(prefix=f"$[{position}]") from e.__cause__
        more, chunk = self._step()
        if not more:
            raise StopAsyncIteration
        return chunk

    async def asend(self, value: Any) -> Any:
        """A recorded async generator's ``asend``: the recorded answer (values not keyed)."""
        return await self.__anext__()

    async def aclose(self) -> None:
        self._close()

    close = aclose  # openai's AsyncStream spells it ``await stream.close()``

    async def __aenter__(self) -> AsyncReplayStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._close()


class PacedReplayStream(ReplayStream):
    """A replayed sync stream that yields each chunk when it came live (replay_timing)."""

    __slots__ = ("_due", "_start")

    def __init__(self, chunks: list[Any], decode: Any, error: Any, due: list[float]) -> None:
        super().__init__(chunks, decode, error)
        self._due, self._start = due, time.monotonic()

    def __next__(self) -> Any:
        position = self._position
        if not self._closed and position < len(self._due):
            time.sleep(max(0.0, self._start + self._due[position] - time.monotonic()))
        return super().__next__()


class PacedAsyncReplayStream(AsyncReplayStream):
    """A replayed async stream that yields each chunk when it came live (replay_timing)."""

    __slots__ = ("_due", "_start")

    def __init__(self, chunks: list[Any], decode: Any, error: Any, due: list[float]) -> None:
        super().__init__(chunks, decode, error)
        self._due, self._start = due, time.monotonic()

    async def __anext__(self) -> Any:
        position = self._position
        if not self._closed and position < len(self._due):
            await asyncio.sleep(max(0.0, self._start + self._due[position] - time.monotonic()))
        return await super().__anext__()


def replay_stream(
    body: Any,
    decode: Callable[[Any], Any],
    error: Callable[[], BaseException] | None,
    *,
    async_stream: bool,
    due: list[float] | None = None,
) -> ReplayStream | AsyncReplayStream:
    """The replayed stream of a stored ``body`` (a list of encoded chunks); ``due``: when each
    chunk is due, in seconds from now (replay at the recorded pace)."""
    chunks = body if isinstance(body, list) else []
    if due is not None:
        paced = PacedAsyncReplayStream if async_stream else PacedReplayStream
        return paced(chunks, decode, error, due)
    if async_stream:
        return AsyncReplayStream(chunks, decode, error)
    return ReplayStream(chunks, decode, error)
