"""A closed recording is freed by reference counting, not left as cyclic garbage.

A suite opens a recording per test. Anything of it caught in a reference cycle (its stored
answers, its store, its settings) stays alive until the collector runs, and every test's
leftovers make the collector's passes longer: the suite benchmark measured it as a share of
apirec's cost per test. A replayed stream once tied the recording's answers into a cycle.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator

import pytest
from openai.types.chat import ChatCompletionChunk

import apirec
from tests.test_streams import chunk


@apirec.record
def words(n: int) -> Iterator[ChatCompletionChunk]:
    return iter([chunk(i) for i in range(n)])


@apirec.record
async def awords(n: int) -> AsyncIterator[ChatCompletionChunk]:
    for i in range(n):
        yield chunk(i)


def apirec_garbage(run: object) -> list[str]:
    """The apirec objects that only the collector could free after ``run()``."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()  # type: ignore[operator]
        gc.collect()
        return sorted(
            {
                f"{type(o).__module__}.{type(o).__qualname__}"
                for o in gc.garbage
                if type(o).__module__.startswith("apirec")
            }
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def read_all(stream: object) -> list[str]:
    return [c.choices[0].delta.content for c in stream]  # type: ignore[attr-defined]


@pytest.mark.parametrize("times", [1, 3], ids=["replayed once", "replayed three times"])
def test_a_replayed_stream_leaves_no_cycle(tmp_path, times):
    with apirec.recording(tmp_path, mode="record"):
        assert len(read_all(words(4))) == 4

    def replay() -> None:
        with apirec.recording(tmp_path, mode="replay", repeats="last") as rec:
            for _ in range(times):
                assert read_all(words(4)) == ["w0", "w1", "w2", "w3"]
            assert rec.stats.replayed == times

    assert apirec_garbage(replay) == []


def test_a_replayed_async_stream_leaves_no_cycle(tmp_path):
    async def drain() -> list[str]:
        return [c.choices[0].delta.content async for c in awords(3)]  # type: ignore[union-attr]

    with apirec.recording(tmp_path, mode="record"):
        assert len(asyncio.run(drain())) == 3

    def replay() -> None:
        async def twice() -> None:
            with apirec.recording(tmp_path, mode="replay", repeats="last"):
                assert await drain() == ["w0", "w1", "w2"]
                assert await drain() == ["w0", "w1", "w2"]

        asyncio.run(twice())

    assert apirec_garbage(replay) == []


def test_a_stream_read_after_its_recording_closed_still_replays(tmp_path):
    """Freed on close, but not from under a stream still being read."""
    with apirec.recording(tmp_path, mode="record"):
        assert len(read_all(words(3))) == 3
    with apirec.recording(tmp_path, mode="replay"):
        stream = words(3)
    assert read_all(stream) == ["w0", "w1", "w2"]
