"""Streams are never lost (DESIGN §5): dropped, cancelled, interrupted, endless, in GC cycles.

A stream the caller stops reading is finished (its rest read and stored) when it is safe to,
within a bound; one that cannot be finished is stored as far as it went, marked truncated, and
replaying past its end raises ``apirec.IncompleteRecording`` naming the file.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys

import anyio
import pytest

import apirec

from .plugin_helpers import INI, setup


def stored(directory):
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def only_stream(directory):
    (entry,) = stored(directory)
    response = entry["response"]
    assert response["is_streaming"] is True
    return response


def make_sources(produced, n=5, pause=None):
    """An async generator function and an awaitable returning an async stream (SDK-shaped)."""

    @apirec.record(name="agen")
    async def agen():
        for i in range(n):
            if pause is not None:
                await pause(i)
            produced.append(i)
            yield {"i": i}

    class SdkStream:  # shaped like openai's AsyncStream
        def __init__(self):
            self._chunks = agen.__wrapped__()

        def __aiter__(self):
            return self

        async def __anext__(self):
            return await self._chunks.__anext__()

        async def close(self):
            await self._chunks.aclose()

    @apirec.record(name="create")
    async def create():
        return SdkStream()

    async def open_agen():
        return agen()

    return {"async generator": open_agen, "awaitable stream": create}


SOURCES = ["async generator", "awaitable stream"]


async def break_and_drop(open_stream):
    async for chunk in await open_stream():
        if chunk["i"] == 1:
            break  # the stream object is dropped here, partly read


# -- A1: dropped async streams are finished ---------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
async def test_dropped_async_stream_is_finished_by_the_async_block(tmp_path, source):
    produced = []
    open_stream = make_sources(produced)[source]
    async with apirec.recording(tmp_path, mode="record") as rec:
        await break_and_drop(open_stream)
        gc.collect()
    assert produced == [0, 1, 2, 3, 4]
    response = only_stream(tmp_path)
    assert [c["i"] for c in response["body"]] == [0, 1, 2, 3, 4]
    assert "truncated" not in response
    assert rec.stats.recorded == 1

    async with apirec.recording(tmp_path, mode="replay"):
        assert [c["i"] async for c in await open_stream()] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("source", SOURCES)
async def test_dropped_async_stream_is_finished_after_a_sync_block_in_async_code(tmp_path, source):
    produced = []

    async def pause(i):
        await asyncio.sleep(0)  # the rest needs the event loop: it cannot be read in __exit__

    open_stream = make_sources(produced, pause=pause)[source]
    with apirec.recording(tmp_path, mode="record"):
        await break_and_drop(open_stream)
        gc.collect()
    for _ in range(100):  # finished in a task on this loop, as soon as the loop runs it
        if stored(tmp_path):
            break
        await asyncio.sleep(0)
    assert produced == [0, 1, 2, 3, 4]
    assert [c["i"] for c in only_stream(tmp_path)["body"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("source", SOURCES)
def test_async_stream_broken_out_of_inside_asyncio_run_is_finished_before_the_loop_ends(
    tmp_path, source
):
    # asyncio.run closes the loop's async generators as it ends: apirec reads the rest first
    produced = []
    open_stream = make_sources(produced)[source]
    with apirec.recording(tmp_path, mode="record"):
        asyncio.run(break_and_drop(open_stream))
    assert produced == [0, 1, 2, 3, 4]
    response = only_stream(tmp_path)
    assert [c["i"] for c in response["body"]] == [0, 1, 2, 3, 4]
    assert "truncated" not in response


def test_async_stream_left_by_a_sync_block_is_stored_truncated_when_the_loop_ends_first(
    tmp_path,
):
    produced = []

    async def pause(i):
        await asyncio.sleep(0)

    open_stream = make_sources(produced, pause=pause)["async generator"]

    async def main():
        with apirec.recording(tmp_path, mode="record"):
            await break_and_drop(open_stream)
        # returns at once: asyncio.run cancels the task that was reading the rest

    with pytest.warns(RuntimeWarning, match=r"agen\(\).*stored truncated.*cut by CancelledError"):
        asyncio.run(main())
    response = only_stream(tmp_path)
    assert response["truncated"] is True
    body = [c["i"] for c in response["body"]]
    assert body == produced[: len(body)]
    assert 2 <= len(body) < 5


async def test_dropped_sdk_stream_is_finished_by_the_async_block(
    openai_server, make_client, tmp_path
):
    client = make_client(openai_server.base_url)
    target = "openai.resources.chat.completions.AsyncCompletions.create"
    messages = [{"role": "user", "content": "llamas eat grass"}]
    async with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(target)
        stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
        async for _ in stream:
            break
        del stream
        gc.collect()
    response = only_stream(tmp_path)
    assert "truncated" not in response
    assert rec.stats.recorded == 1
    openai_server.stop()

    async with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(target)
        stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "You said: llamas eat grass"


PLUGIN_TEST = """
import pytest, provider

async def test_breaks_out(apirec):
    async for chunk in provider.agen():
        if chunk == 1:
            break
"""

ANYIO_PLUGIN_TEST = """
import pytest, provider

pytestmark = pytest.mark.anyio

@pytest.fixture
def anyio_backend():
    return "asyncio"

async def test_breaks_out(apirec):
    async for chunk in provider.agen():
        if chunk == 1:
            break
"""

AGEN = """

@apirec.record(name="demo.agen")
async def agen():
    for i in range(4):
        calls.append(("agen", i))
        yield i
"""


@pytest.mark.parametrize(
    ("ini", "tests"),
    [("", PLUGIN_TEST), ("asyncio_mode = strict", ANYIO_PLUGIN_TEST)],
    ids=["pytest-asyncio", "anyio"],
)
def test_plugin_finishes_an_async_tests_streams_in_its_loop(pytester, ini, tests):
    setup(pytester)
    if ini:
        pytester.makeini(INI.replace("asyncio_mode = auto", ini).format(extra=""))
    provider = pytester.path / "provider.py"
    provider.write_text(provider.read_text() + AGEN)
    pytester.makepyfile(test_streams=tests)
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["apirec: 0 replayed, 1 recorded, *"])
    (entry,) = [json.loads(p.read_text()) for p in (pytester.path / "recordings").glob("*.json")]
    assert entry["response"]["body"] == [0, 1, 2, 3]
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["apirec: 1 replayed, 0 recorded, 0 live, 0 missed*"])


# -- A2: cancellation and Ctrl-C store what was received, marked truncated --------------------


def gated_source(produced):
    gate = asyncio.Event()

    @apirec.record(name="agen")
    async def agen():
        for i in range(5):
            if i == 2:
                await gate.wait()  # never set: the caller is cut while waiting here
            produced.append(i)
            yield {"i": i}

    return agen


async def read_all(stream, got):
    async for chunk in stream:
        got.append(chunk)


async def cut_by_wait_for(stream, got):
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(read_all(stream, got), timeout=0.05)


async def cut_by_task_cancel(stream, got):
    task = asyncio.create_task(read_all(stream, got))
    while len(got) < 2:
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def cut_by_anyio_cancel_scope(stream, got):
    with anyio.move_on_after(0.05) as scope:
        await read_all(stream, got)
    assert scope.cancelled_caught


@pytest.mark.parametrize(
    "cut",
    [cut_by_wait_for, cut_by_task_cancel, cut_by_anyio_cancel_scope],
    ids=lambda f: f.__name__,
)
async def test_stream_cut_by_cancellation_is_stored_truncated(tmp_path, cut):
    produced = []
    agen = gated_source(produced)
    got = []
    async with apirec.recording(tmp_path, mode="record"):
        stream = agen()
        await cut(stream, got)
    assert produced == [0, 1]  # nothing read after the cut
    response = only_stream(tmp_path)
    assert [c["i"] for c in response["body"]] == [0, 1]
    assert response["truncated"] is True
    assert "CancelledError" in response["truncated_reason"]

    (path,) = tmp_path.glob("*.json")
    async with apirec.recording(tmp_path, mode="replay"):
        replayed = []
        with pytest.raises(apirec.IncompleteRecording, match=str(path)) as info:
            async for chunk in agen():
                replayed.append(chunk["i"])
    assert replayed == [0, 1]
    assert isinstance(info.value, apirec.RecordingNotFound)
    assert info.value.function == "agen"


async def test_a_cancelled_block_stores_open_streams_truncated_without_reading_them(tmp_path):
    produced = []
    agen = make_sources(produced)["async generator"]
    with pytest.raises(asyncio.CancelledError):
        async with apirec.recording(tmp_path, mode="record"):
            stream = await agen()
            await anext(stream)
            raise asyncio.CancelledError
    assert produced == [0]
    response = only_stream(tmp_path)
    assert [c["i"] for c in response["body"]] == [0]
    assert response["truncated"] is True
    assert "CancelledError" in response["truncated_reason"]


def test_ctrl_c_stores_sync_streams_truncated_and_dropping_them_later_reads_nothing(tmp_path):
    produced = []

    @apirec.record(name="gen")
    def gen():
        for i in range(5):
            produced.append(i)
            yield i

    @apirec.record(name="gen2")
    def interrupted_inside():
        yield 0
        raise KeyboardInterrupt  # Ctrl-C arriving while the source reads

    with pytest.raises(KeyboardInterrupt), apirec.recording(tmp_path, mode="record"):
        stream = gen()
        for _ in stream:
            raise KeyboardInterrupt  # Ctrl-C in the caller's loop
    del stream
    gc.collect()
    assert produced == [0]
    with pytest.raises(KeyboardInterrupt), apirec.recording(tmp_path / "b", mode="record"):
        list(interrupted_inside())
    for directory, body in ((tmp_path, [0]), (tmp_path / "b", [0])):
        response = only_stream(directory)
        assert response["body"] == body
        assert response["truncated"] is True
        assert "KeyboardInterrupt" in response["truncated_reason"]

    with apirec.recording(tmp_path, mode="replay"):
        stream = gen()
        assert next(stream) == 0
        with pytest.raises(apirec.IncompleteRecording, match="gen"):
            next(stream)


# -- A3: reading the rest is bounded --------------------------------------------------------


def test_endless_sync_stream_is_read_up_to_the_default_bound(tmp_path):
    @apirec.record(name="feed")
    def feed():
        i = 0
        while True:
            yield i
            i += 1

    with (
        pytest.warns(RuntimeWarning, match=r"feed\(\).*10,000 chunks"),
        apirec.recording(tmp_path, mode="record"),
    ):
        for _ in feed():
            break
    response = only_stream(tmp_path)
    assert len(response["body"]) == 1 + 10_000
    assert response["truncated"] is True
    assert "10,000 chunks" in response["truncated_reason"]


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"stream_rest_chunks": 20}, "20 chunks"), ({"stream_rest_seconds": 0.05}, "0.05 s")],
)
async def test_endless_async_stream_is_read_up_to_a_configured_bound(tmp_path, options, reason):
    @apirec.record(name="feed")
    async def feed():
        i = 0
        while True:
            await asyncio.sleep(0.001 if "stream_rest_seconds" in options else 0)
            yield i
            i += 1

    with pytest.warns(RuntimeWarning, match=rf"feed\(\).*{reason}"):
        async with apirec.recording(tmp_path, mode="record", **options):
            async for _ in feed():
                break
    response = only_stream(tmp_path)
    assert response["truncated"] is True
    assert reason in response["truncated_reason"]
    if "stream_rest_chunks" in options:
        assert len(response["body"]) == 21


async def test_async_source_that_never_sends_the_next_chunk_is_bounded_in_time(tmp_path):
    @apirec.record(name="stuck")
    async def stuck():
        yield 0
        await asyncio.Event().wait()  # no more chunks, ever
        yield 1

    with pytest.warns(RuntimeWarning, match=r"stuck\(\).*0.05 s"):
        async with apirec.recording(tmp_path, mode="record", stream_rest_seconds=0.05):
            async for _ in stuck():
                break
    response = only_stream(tmp_path)
    assert response["body"] == [0]
    assert response["truncated"] is True


# -- A4: a finalizer never reads a stream ----------------------------------------------------

CYCLES = """
import gc, apirec
gc.set_threshold(100)  # frequent collections, some inside apirec's locks

@apirec.record(name="gen")
def gen(i):
    return {source}

@apirec.record(name="plain")
def plain(i):
    return i

with apirec.recording({path!r}, mode="record") as rec:
    for i in range(300):
        stream = gen(i)
        next(stream)
        holder = {{"stream": stream}}
        holder["self"] = holder  # a reference cycle: only the collector frees it
        del stream, holder
        plain(i)
print(rec.stats.recorded)
"""


# an iterator source (like openai's Stream) and a generator: both deadlocked before
@pytest.mark.parametrize("source", ["iter([0, 1, 2])", "(x for x in range(3))"])
def test_streams_in_reference_cycles_never_deadlock_the_recording(tmp_path, source):
    script = CYCLES.format(path=str(tmp_path), source=source)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the recording process deadlocked (a finalizer read a stream under a lock)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["600"]
    streams = [e for e in stored(tmp_path) if e["request"]["function"] == "gen"]
    assert len(streams) == 300
    assert all(e["response"]["body"] == [0, 1, 2] for e in streams)


def test_dropped_sync_stream_is_finished_at_the_next_call_not_in_its_finalizer(tmp_path):
    produced = []

    @apirec.record(name="gen")
    def gen():
        for i in range(3):
            produced.append(i)
            yield i

    @apirec.record(name="plain")
    def plain():
        return 1

    with apirec.recording(tmp_path, mode="record"):
        stream = gen()
        next(stream)
        del stream
        gc.collect()
        assert produced == [0]  # the finalizer only handed the work off
        plain()
        assert produced == [0, 1, 2]  # the next call, outside any lock, finished it
    bodies = {e["request"]["function"]: e["response"]["body"] for e in stored(tmp_path)}
    assert bodies == {"gen": [0, 1, 2], "plain": 1}


# -- B11: a failure while finishing streams still closes the recording ------------------------


def failing_sources(failure):
    """A sync and an async streaming function whose rest cannot be stored."""
    rest = [2, 3] if failure == "store error" else [object()]

    @apirec.record(name="gen")
    def gen():
        yield 1
        yield from rest

    @apirec.record(name="agen")
    async def agen():
        yield 1
        for chunk in rest:
            yield chunk

    return gen, agen


@pytest.mark.parametrize("block", ["async with", "with"])
@pytest.mark.parametrize(
    ("failure", "error"),
    [("store error", apirec.StoreError), ("unencodable chunk", apirec.EncodeError)],
)
async def test_failure_finishing_a_stream_still_deactivates_the_recording(
    tmp_path, block, failure, error
):
    from tests import patch_target

    directory = tmp_path
    if failure == "store error":
        directory = tmp_path / "file"
        directory.write_text("")  # not a directory: nothing can be stored there
    gen, agen = failing_sources(failure)
    rec = apirec.recording(directory, mode="record")
    with pytest.raises(error):
        if block == "async with":
            async with rec:
                rec.patch("tests.patch_target.module_function")
                stream = agen()
                await anext(stream)
        else:
            with rec:
                rec.patch("tests.patch_target.module_function")
                stream = gen()
                next(stream)
    assert not rec.is_open
    assert not hasattr(patch_target.module_function, "__apirec_spec__")  # patch undone
    calls = patch_target.CALLS["module_function"]
    assert patch_target.module_function(2) == 4  # called through: no recording is active
    assert patch_target.CALLS["module_function"] == calls + 1
    assert type(agen()).__name__ == "async_generator"  # not recorded any more


# -- the stored format and the tools --------------------------------------------------------


def test_cli_shows_and_verifies_a_truncated_stream(tmp_path, capsys):
    from apirec.cli.app import main

    @apirec.record(name="gen")
    def gen():
        yield 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), apirec.recording(tmp_path, mode="record"):
        list(gen())
    (path,) = tmp_path.glob("*.json")
    assert main(["verify", str(tmp_path)]) == 0
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "truncated" in out
    assert "KeyboardInterrupt" in out


def test_truncation_marks_survive_the_msgpack_store(tmp_path):
    @apirec.record(name="gen")
    def gen():
        yield 1
        raise KeyboardInterrupt

    with (
        pytest.raises(KeyboardInterrupt),
        apirec.recording(tmp_path, mode="record", store="msgpack"),
    ):
        list(gen())
    with apirec.recording(tmp_path, mode="replay", store="msgpack"):
        stream = gen()
        assert next(stream) == 1
        with pytest.raises(apirec.IncompleteRecording):
            next(stream)


def test_the_error_is_public():
    assert issubclass(apirec.IncompleteRecording, apirec.RecordingNotFound)
    assert "IncompleteRecording" in apirec.__all__


# -- a cut says so (issue 18, adversarial point 3) ---------------------------------------------


def test_a_stream_cut_by_ctrl_c_in_the_loop_body_warns_naming_the_call_and_file(tmp_path):
    @apirec.record(name="ticks")
    def ticks():
        yield from range(5)

    with (
        pytest.warns(
            RuntimeWarning, match=r"ticks\(\) was stored truncated in .*\.json.*KeyboardInterrupt"
        ),
        pytest.raises(KeyboardInterrupt),
        apirec.recording(tmp_path, mode="record"),
    ):
        for tick in ticks():
            if tick == 2:
                raise KeyboardInterrupt
    response = only_stream(tmp_path)
    assert response["truncated"] is True and len(response["body"]) == 3


@pytest.mark.parametrize("how", ["wait_for", "cancel"])
def test_a_stream_cut_by_cancellation_warns_naming_the_call_and_file(tmp_path, how):
    @apirec.record(name="slow")
    async def slow():
        yield 0
        yield 1
        await asyncio.sleep(30)
        yield 2

    async def read(got):
        async for item in slow():
            got.append(item)

    async def main():
        got = []
        async with apirec.recording(tmp_path, mode="record"):
            if how == "wait_for":
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(read(got), 0.2)
            else:
                task = asyncio.create_task(read(got))
                await asyncio.sleep(0.2)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
        return got

    with pytest.warns(
        RuntimeWarning, match=r"slow\(\) was stored truncated in .*\.json.*CancelledError"
    ):
        assert asyncio.run(main()) == [0, 1]
    response = only_stream(tmp_path)
    assert response["truncated"] is True and len(response["body"]) == 2
