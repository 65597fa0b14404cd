"""An async test's open streams are finished in its own event loop, before it returns."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from apirec.record.recording import Recording


@contextlib.contextmanager
def streams_finished_in_the_tests_loop(item: pytest.Item, rec: Recording) -> Iterator[None]:
    """An async test's open streams are finished before its coroutine returns, in its event
    loop: the fixture's own teardown runs after that loop has closed (and has closed the
    async generators it ran), where the rest of an async stream can no longer be read."""
    test = getattr(item, "obj", None)
    if not inspect.iscoroutinefunction(test):
        yield
        return

    @functools.wraps(test)
    async def run_then_finish_streams(*args: Any, **kwargs: Any) -> Any:
        try:
            result = await test(*args, **kwargs)
        except BaseException as error:
            await rec.finish_streams(error)
            raise
        await rec.finish_streams()
        return result

    item.obj = run_then_finish_streams  # type: ignore[attr-defined]
    try:
        yield
    finally:
        item.obj = test  # type: ignore[attr-defined]
