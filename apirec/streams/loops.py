"""Event loops that end while a stream is still open: the stream is finished first.

``asyncio.run`` (and pytest-asyncio, anyio, ``IsolatedAsyncioTestCase``) ends by calling
``loop.shutdown_asyncgens()``, which closes every async generator the loop has seen. An SDK
stream is not one, but it wraps several (openai's ``AsyncStream.__stream__``, httpx's byte
iterators, apirec's own): closed from outside, they end as if the stream had ended, and the
stream's source reports an end that is not the stream's own. So the first time a stream is
read in a loop, the loop's ``shutdown_asyncgens`` is wrapped (on that loop object only) to
finish the streams still open in it first, reading their rest within the bound while the loop
still runs. Once the loop's own shutdown has begun, an end is not trusted
(:func:`shutting_down`): the stream is stored truncated instead.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class Finisher(Protocol):
    """What finishes a recording's open streams of one loop
    (:class:`apirec.streams.finishing.OpenStreams`)."""

    def finish_loop(self, loop: asyncio.AbstractEventLoop) -> Awaitable[list[Exception]]: ...


class _Shutdown:
    """Stands in for one loop's ``shutdown_asyncgens``: finishes apirec's streams first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, original: Callable[[], Any]) -> None:
        self.loop = loop
        self.original = original
        self.finishers: weakref.WeakSet[Finisher] = weakref.WeakSet()
        self.started = False

    async def __call__(self) -> None:
        errors: list[Exception] = []
        try:
            for finisher in list(self.finishers):
                errors.extend(await finisher.finish_loop(self.loop))
        finally:
            self.started = True
            await self.original()
        if errors:  # a store that failed while finishing: say so, out of asyncio.run
            first = errors[0]
            for other in errors[1:]:
                first.add_note(f"apirec: also, while finishing streams: {other!r}")
            raise first


def watch(loop: asyncio.AbstractEventLoop, finisher: Finisher) -> None:
    """Have ``finisher`` finish its open streams of ``loop`` before the loop closes its async
    generators. A loop that takes no attribute cannot be watched: its streams are finished
    at the end of the recording block, or stored truncated."""
    hook = getattr(loop, "__dict__", {}).get("shutdown_asyncgens")
    if not isinstance(hook, _Shutdown):
        hook = _Shutdown(loop, loop.shutdown_asyncgens)
        try:
            loop.shutdown_asyncgens = hook  # type: ignore[method-assign]
        except (AttributeError, TypeError):
            return
    hook.finishers.add(finisher)


def shutting_down(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` has closed, or begun closing, its async generators: an end seen now
    may be one of them closed from outside, not the end of the stream."""
    if loop.is_closed() or getattr(loop, "_asyncgens_shutdown_called", False) is True:
        return True
    hook = getattr(loop, "__dict__", {}).get("shutdown_asyncgens")
    return isinstance(hook, _Shutdown) and hook.started
