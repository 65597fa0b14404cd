"""Streams (DESIGN §5): recorded chunk by chunk, stored whole, replayed lazily."""

from __future__ import annotations

import asyncio
import gc
import json

import pytest
from openai.types.chat import ChatCompletionChunk

import apirec
from apirec.streams.replay import AsyncReplayStream, ReplayStream


def chunk(i: int, text: str = "") -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": text or f"w{i}"}, "finish_reason": None}],
        }
    )


class FakeAsyncStream:
    """Shaped like openai's AsyncStream: an async iterator with ``await close()``."""

    def __init__(self, chunks, before_next=None):
        self._chunks = iter(chunks)
        self.before_next = before_next
        self.produced = 0
        self.closed = False
        self.response = "the http response"

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.before_next is not None:
            await self.before_next(self.produced)
        try:
            value = next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None
        self.produced += 1
        return value

    async def close(self):
        self.closed = True


class FakeStream:
    """Shaped like openai's Stream: a sync iterator with ``close()``."""

    def __init__(self, chunks, before_next=None):
        self._chunks = iter(chunks)
        self.before_next = before_next
        self.produced = 0
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.before_next is not None:
            self.before_next(self.produced)
        value = next(self._chunks)
        self.produced += 1
        return value

    def close(self):
        self.closed = True


def stored(tmp_path):
    files = sorted(p for p in tmp_path.glob("*.json"))
    return [json.loads(p.read_text()) for p in files]


# -- the four kinds of streaming functions --------------------------------------------------


async def test_async_generator_hands_over_each_chunk_as_it_arrives(tmp_path):
    caller_has_first = asyncio.Event()
    produced = []

    @apirec.record(name="agen")
    async def source(n):
        for i in range(n):
            if i == 1:  # a buffering recorder would wait here forever (bounded below)
                await asyncio.wait_for(caller_has_first.wait(), timeout=10)
            produced.append(i)
            yield chunk(i)

    async with apirec.recording(tmp_path, mode="record"):
        stream = source(3)
        first = await anext(stream)
        assert produced == [0]
        caller_has_first.set()
        rest = [c async for c in stream]
    assert [c.choices[0].delta.content for c in [first, *rest]] == ["w0", "w1", "w2"]

    async with apirec.recording(tmp_path, mode="replay") as rec:
        replayed = source(3)
        assert isinstance(replayed, AsyncReplayStream)
        again = [c async for c in replayed]
    assert again == [first, *rest]
    assert all(type(c) is ChatCompletionChunk for c in again)
    assert produced == [0, 1, 2]  # the source did not run on replay
    assert rec.stats.replayed == 1


def test_generator_hands_over_each_chunk_as_it_arrives(tmp_path):
    holding = []
    produced = []

    @apirec.record(name="gen")
    def source(n):
        for i in range(n):
            if i == 1:
                assert holding == [0], "the caller must hold chunk 0 before chunk 1 is made"
            produced.append(i)
            yield chunk(i)

    with apirec.recording(tmp_path, mode="record"):
        recorded = []
        for c in source(3):
            holding.append(len(recorded))
            recorded.append(c)
    assert produced == [0, 1, 2]

    with apirec.recording(tmp_path, mode="replay"):
        replayed = source(3)
        assert isinstance(replayed, ReplayStream)
        assert list(replayed) == recorded


async def test_awaitable_returning_an_async_stream(tmp_path):
    caller_has_first = asyncio.Event()

    async def wait_for_caller(produced):
        if produced == 1:
            await asyncio.wait_for(caller_has_first.wait(), timeout=10)

    sources = []

    @apirec.record(name="create")
    async def create(prompt):
        sources.append(FakeAsyncStream([chunk(0), chunk(1)], wait_for_caller))
        return sources[-1]

    async with apirec.recording(tmp_path, mode="record"):
        stream = await create("hi")
        assert stream.response == "the http response"  # the source's attributes still work
        first = await anext(stream)
        assert sources[0].produced == 1
        caller_has_first.set()
        async with stream:
            rest = [c async for c in stream]
    assert sources[0].closed

    async with apirec.recording(tmp_path, mode="replay"):
        stream = await create("hi")
        async with stream:
            assert [c async for c in stream] == [first, *rest]
    assert len(sources) == 1


def test_function_returning_a_sync_stream(tmp_path):
    holding = []

    def check(produced):
        if produced == 1:
            assert holding, "the caller must hold chunk 0 before chunk 1 is made"

    @apirec.record(name="create")
    def create(prompt):
        return FakeStream([chunk(0), chunk(1), chunk(2)], check)

    with apirec.recording(tmp_path, mode="record"), create("hi") as stream:
        recorded = []
        for c in stream:
            holding.append(c)
            recorded.append(c)

    with apirec.recording(tmp_path, mode="replay"), create("hi") as stream:
        assert list(stream) == recorded


async def test_stored_as_one_streaming_entry_of_envelopes(tmp_path):
    @apirec.record(name="agen")
    async def source():
        yield chunk(0)
        yield {"plain": "json"}

    async with apirec.recording(tmp_path, mode="record"):
        assert len([c async for c in source()]) == 2
    (entry,) = stored(tmp_path)
    response = entry["response"]
    assert response["is_streaming"] is True
    assert "is_exception" not in response
    first, second = response["body"]
    assert first["__type__"] == "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    assert first["__data__"]["choices"][0]["delta"]["content"] == "w0"
    assert second == {"plain": "json"}


# -- a caller that stops early still leaves a complete recording ----------------------------


def counting_async_source(produced):
    @apirec.record(name="agen")
    async def source():
        for i in range(4):
            produced.append(i)
            yield chunk(i)

    return source


@pytest.mark.parametrize("how", ["aclose", "close", "async with", "recording exit"])
async def test_async_caller_stopping_early_records_the_whole_stream(tmp_path, how):
    produced = []
    source = counting_async_source(produced)
    async with apirec.recording(tmp_path, mode="record"):
        stream = source()
        if how == "async with":
            async with stream:
                async for _ in stream:
                    break
        else:
            async for _ in stream:
                break
            if how == "aclose":
                await stream.aclose()
            elif how == "close":
                await stream.close()
        if how != "recording exit":
            assert produced == [0, 1, 2, 3]  # drained when closed
    assert produced == [0, 1, 2, 3]
    (entry,) = stored(tmp_path)
    assert len(entry["response"]["body"]) == 4

    async with apirec.recording(tmp_path, mode="replay"):
        assert [c.choices[0].delta.content async for c in source()] == ["w0", "w1", "w2", "w3"]


@pytest.mark.parametrize("how", ["close", "with", "dropped", "recording exit"])
def test_sync_caller_stopping_early_records_the_whole_stream(tmp_path, how):
    produced = []

    @apirec.record(name="gen")
    def source():
        for i in range(4):
            produced.append(i)
            yield chunk(i)

    with apirec.recording(tmp_path, mode="record"):
        stream = source()
        if how == "with":
            with stream:
                next(stream)
        else:
            next(stream)
            if how == "close":
                stream.close()
            elif how == "dropped":
                # finished at the next call or the block's end, never by its finalizer
                del stream
                gc.collect()
        if how not in ("recording exit", "dropped"):
            assert produced == [0, 1, 2, 3]
    (entry,) = stored(tmp_path)
    assert len(entry["response"]["body"]) == 4


async def test_async_stream_left_open_by_a_sync_recording_block_is_still_finished(tmp_path):
    # It used to be left unstored (with a warning) until the caller closed it: a sync exit
    # cannot await, so the rest is now read in a task on the running loop.
    produced = []
    source = counting_async_source(produced)
    with apirec.recording(tmp_path, mode="record"):
        stream = source()
        await anext(stream)
    await stream.aclose()  # the task has finished it, or this does: stored once, complete
    (entry,) = stored(tmp_path)
    assert len(entry["response"]["body"]) == 4
    assert produced == [0, 1, 2, 3]


# -- the replayed stream ---------------------------------------------------------------------


async def test_replayed_async_stream_protocol(tmp_path):
    source = counting_async_source([])
    async with apirec.recording(tmp_path, mode="record"):
        async for _ in source():
            pass

    async with apirec.recording(tmp_path, mode="replay", repeats="last"):  # one answer, 4 calls
        stream = source()
        assert stream.__aiter__() is stream
        first = await anext(stream)
        await stream.aclose()
        assert [c async for c in stream] == []  # closed: nothing more
        async with source() as again:
            assert await anext(again) == first
        again = source()
        await again.close()  # openai's spelling
        with pytest.raises(StopAsyncIteration):
            await anext(again)
        # fresh objects each time: mutating one replay leaves the next intact
        first.choices[0].delta.content = "changed"
        assert (await anext(source())).choices[0].delta.content == "w0"


def test_replayed_sync_stream_protocol(tmp_path):
    @apirec.record(name="gen")
    def source():
        yield from (chunk(i) for i in range(3))

    with apirec.recording(tmp_path, mode="record"):
        list(source())

    with apirec.recording(tmp_path, mode="replay", repeats="last"):  # one answer, two calls
        stream = source()
        with pytest.raises(AttributeError, match=r"'response'.*only the recorded chunks"):
            _ = stream.response
        assert not hasattr(stream, "response")
        assert iter(stream) is stream
        assert next(stream).choices[0].delta.content == "w0"
        stream.close()
        assert list(stream) == []
        with source() as again:
            assert len(list(again)) == 3


def test_replay_decodes_one_chunk_at_a_time(tmp_path):
    @apirec.record(name="gen")
    def source():
        yield from (chunk(i) for i in range(3))

    with apirec.recording(tmp_path, mode="record"):
        list(source())
    (path,) = tmp_path.glob("*.json")
    entry = json.loads(path.read_text())
    entry["response"]["body"][1]["__type__"] = "not_imported_pkg.Chunk"
    path.write_text(json.dumps(entry, indent=2) + "\n")

    with apirec.recording(tmp_path, mode="replay"):
        stream = source()
        assert next(stream).choices[0].delta.content == "w0"  # chunk 1 is not decoded yet
        with pytest.raises(apirec.DecodeError) as info:
            next(stream)
    message = str(info.value)
    assert str(path) in message
    assert "$[1]" in message
    assert "not_imported_pkg" in message


async def test_each_identical_stream_call_gets_its_own_answer(tmp_path):
    answers = iter([["a", "b"], ["c"]])

    @apirec.record(name="agen")
    async def source():
        for text in next(answers):
            yield text

    async with apirec.recording(tmp_path, mode="record"):
        assert [c async for c in source()] == ["a", "b"]
        assert [c async for c in source()] == ["c"]
    async with apirec.recording(tmp_path, mode="replay"):
        assert [c async for c in source()] == ["a", "b"]
        assert [c async for c in source()] == ["c"]
        with pytest.raises(apirec.SequenceExhausted, match="call 3 of agen"):
            source()  # past the end: a miss at the call, not at the first chunk
    async with apirec.recording(tmp_path, mode="replay", repeats="last"):
        assert [[c async for c in source()] for _ in range(3)] == [["a", "b"], ["c"], ["c"]]


async def test_stream_replay_miss_raises_at_the_call(tmp_path):
    source = counting_async_source([])
    async with apirec.recording(tmp_path, mode="replay"):
        with pytest.raises(apirec.RecordingNotFound, match="agen"):
            source()


async def test_live_mode_and_no_recording_pass_streams_through(tmp_path):
    source = counting_async_source([])
    async with apirec.recording(tmp_path, mode="live"):
        stream = source()
        assert type(stream).__name__ == "async_generator"
        assert len([c async for c in stream]) == 4
    assert type(source()).__name__ == "async_generator"
    assert stored(tmp_path) == []


async def test_record_if_missing_records_then_replays_streams(tmp_path):
    produced = []
    source = counting_async_source(produced)
    for _ in range(2):
        async with apirec.recording(tmp_path, mode="record-if-missing"):
            assert len([c async for c in source()]) == 4
    assert produced == [0, 1, 2, 3]


def test_sync_function_returning_an_async_iterator_is_refused(tmp_path):
    @apirec.record(name="odd")
    def odd():
        return FakeAsyncStream([chunk(0)])

    with (
        apirec.recording(tmp_path, mode="record"),
        pytest.raises(apirec.ApirecError, match=r"odd\(\) returned an async iterator"),
    ):
        odd()
    assert stored(tmp_path) == []


async def test_chunk_that_cannot_be_stored_fails_the_stream_and_stores_nothing(tmp_path):
    @apirec.record(name="agen")
    async def source():
        yield "fine"
        yield object()

    async with apirec.recording(tmp_path, mode="record"):
        stream = source()
        assert await anext(stream) == "fine"
        with pytest.raises(apirec.EncodeError, match=r"builtins\.object"):
            await anext(stream)
    assert stored(tmp_path) == []


async def test_failure_to_store_a_stream_reaches_the_caller(tmp_path):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    source = counting_async_source([])
    async with apirec.recording(not_a_directory, mode="record"):
        stream = source()
        with pytest.raises(apirec.StoreError, match=str(not_a_directory)):
            async for _ in stream:
                pass
        await stream.aclose()  # ended already: nothing more to store or raise

    sync_stream = apirec.record(name="gen")(lambda: iter([1, 2]))
    with apirec.recording(not_a_directory, mode="record"):
        stream = sync_stream()
        next(stream)
        with pytest.raises(apirec.StoreError):
            stream.close()  # the drain stores, and says so when it cannot


async def test_a_cancelled_block_does_not_drain_open_streams_but_stores_them_truncated(tmp_path):
    produced = []
    source = counting_async_source(produced)
    with pytest.raises(asyncio.CancelledError):
        async with apirec.recording(tmp_path, mode="record"):
            stream = source()
            await anext(stream)
            raise asyncio.CancelledError
    assert produced == [0]
    # never stored as if complete: stored as far as it went, marked truncated (it used to be
    # dropped with no warning)
    (entry,) = stored(tmp_path)
    assert len(entry["response"]["body"]) == 1
    assert entry["response"]["truncated"] is True
