"""A stream is complete only if its source ended (DESIGN §13, issue 18 points 4 and 5).

A stream broken out of inside ``asyncio.run`` is finished before the loop closes its async
generators; one whose generators were closed behind apirec's back is stored truncated, never as
a complete answer. A stream cut by a transient failure (a dropped connection, an overloaded
event) is not stored: the retry's stream takes its place. All through the real SDK clients
against the loopback fakes of tests/openai_server.py and tests/anthropic_server.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings

import anthropic
import openai
import pytest

import apirec
from apirec.integrations import patch

MESSAGES = [{"role": "user", "content": "llamas eat grass and hay"}]
TEXT = "You said: llamas eat grass and hay"
ACHAT = "openai.resources.chat.completions.AsyncCompletions.create"


def stored(directory):
    """The stored responses, in slot order (``key.json``, ``key.1.json``...)."""

    def order(path):
        key, *index = path.name.split(".")[:-1]
        return key, int(index[0]) if index else 0

    paths = sorted(directory.glob("*.json"), key=order)
    return [json.loads(p.read_text())["response"] for p in paths]


def only(directory):
    (response,) = stored(directory)
    assert response["is_streaming"] is True
    return response


def openai_text(chunks):
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- point 4: broken out of inside asyncio.run ------------------------------------------------


LIVING = []  # keeps the generators below alive until their loop closes them


async def client_until_the_loop_ends(base_url):
    """A client closed when the loop closes its async generators (as asyncio.run ends)."""
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk", max_retries=0) as client:
        yield client


async def read_two_openai(base_url, via):
    """The pattern of issue 18: two chunks, then ``break``; the stream is never closed. The
    client is closed at the end of an ``async with`` (with the integration, its open streams
    are finished first), or with ``rec.patch`` and here only as the loop ends."""
    if via in ("rec.patch", "loop"):
        LIVING.append(client_until_the_loop_ends(base_url))
        client = await anext(LIVING[-1])
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        got = []
        async for chunk in stream:
            got.append(chunk.choices[0].delta.content)
            if len(got) == 2:
                return got
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk", max_retries=0) as client:
        chat = client.chat.completions
        got = []
        if via == "with_streaming_response":
            create = chat.with_streaming_response.create
            async with create(model="m", messages=MESSAGES, stream=True) as response:
                async for line in response.iter_lines():
                    got.append(line)
                    if len(got) == 2:
                        break
            return got
        if via == "stream helper":
            async with chat.stream(model="m", messages=MESSAGES) as stream:
                async for event in stream:
                    got.append(event.type)
                    if len(got) == 2:
                        break
            return got
        stream = await chat.create(model="m", messages=MESSAGES, stream=True)
        async for chunk in stream:
            got.append(chunk.choices[0].delta.content)
            if len(got) == 2:
                break
        return got


async def read_all_openai(base_url, via):
    async with openai.AsyncOpenAI(base_url=base_url, api_key="sk", max_retries=0) as client:
        chat = client.chat.completions
        if via == "with_streaming_response":
            create = chat.with_streaming_response.create
            async with create(model="m", messages=MESSAGES, stream=True) as response:
                return [line async for line in response.iter_lines()]
        if via == "stream helper":
            async with chat.stream(model="m", messages=MESSAGES) as stream:
                return (await stream.get_final_completion()).choices[0].message.content
        stream = await chat.create(model="m", messages=MESSAGES, stream=True)
        return openai_text([chunk async for chunk in stream])


VIAS = ["create", "rec.patch", "with_streaming_response", "stream helper"]


def start_patch(rec, via):
    if via == "rec.patch":
        rec.patch(ACHAT)
    else:
        patch(rec, "openai")


@pytest.mark.parametrize("via", VIAS)
def test_an_async_openai_stream_broken_out_of_inside_asyncio_run_is_stored_whole(
    tmp_path, openai_server, closed_url, via
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither truncated nor noisy
        with apirec.recording(tmp_path, mode="record") as rec:
            start_patch(rec, via)
            asyncio.run(read_two_openai(openai_server.base_url, via))
    (response,) = stored(tmp_path)
    assert "truncated" not in response
    with apirec.recording(tmp_path, mode="replay") as rec:
        start_patch(rec, via)
        replayed = asyncio.run(read_all_openai(closed_url, via))
    if via == "with_streaming_response":
        lines = [line for line in replayed if line]
        assert lines[-1] == "data: [DONE]"
        assert len(lines) == len(TEXT.split()) + 3  # the role, each word, the stop, [DONE]
    else:
        assert replayed == TEXT  # every word, not the two chunks read live


def read_sync(client, via, *, stop_after=None):
    """The text of a sync stream (``with_streaming_response``: its SSE lines), or the first
    ``stop_after`` items of it, broken out of."""
    chat = client.chat.completions
    if via == "with_streaming_response":
        create = chat.with_streaming_response.create
        with create(model="m", messages=MESSAGES, stream=True) as response:
            items = response.iter_lines()
            return [line for _, line in zip(range(stop_after or 10**6), items, strict=False)]
    if via == "stream helper":
        with chat.stream(model="m", messages=MESSAGES) as stream:
            if stop_after is not None:
                return [event.type for _, event in zip(range(stop_after), stream, strict=False)]
            return stream.get_final_completion().choices[0].message.content
    stream = chat.create(model="m", messages=MESSAGES, stream=True)
    if stop_after is not None:
        return [chunk for _, chunk in zip(range(stop_after), stream, strict=False)]
    return openai_text(stream)


@pytest.mark.parametrize("via", ["create", "with_streaming_response", "stream helper"])
def test_a_sync_openai_stream_broken_out_of_is_stored_whole(
    tmp_path, openai_server, make_client, closed_url, via
):
    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        assert (
            len(read_sync(make_client(openai_server.base_url, is_async=False), via, stop_after=2))
            == 2
        )
    (response,) = stored(tmp_path)
    assert "truncated" not in response
    with apirec.recording(tmp_path, mode="replay") as rec:
        patch(rec, "openai")
        replayed = read_sync(make_client(closed_url, is_async=False), via)
    if via == "with_streaming_response":
        assert [line for line in replayed if line][-1] == "data: [DONE]"
    else:
        assert replayed == TEXT


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_closing_an_sdk_client_finishes_its_recorded_streams_first(
    tmp_path, openai_server, make_client, closed_url, is_async
):
    # closing the client closes its connections: the rest of an open stream would be lost
    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        client = cls(base_url=openai_server.base_url, api_key="sk", max_retries=0)
        create = client.chat.completions.create(model="gated", messages=MESSAGES, stream=True)
        if is_async:
            await anext(aiter(await create))
        else:
            next(iter(create))
        openai_server.gate.set()  # the rest is on its way as the client closes
        if is_async:
            await client.close()
        else:
            client.close()
    assert "truncated" not in only(tmp_path)
    with apirec.recording(tmp_path, mode="replay") as rec:
        patch(rec, "openai")
        client = make_client(closed_url, is_async=is_async)
        stream = client.chat.completions.create(model="gated", messages=MESSAGES, stream=True)
        text = openai_text([c async for c in await stream] if is_async else stream)
    assert text == TEXT


async def read_two_anthropic(base_url, via):
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="sk", max_retries=0) as c:
        options = {"model": "claude-test", "max_tokens": 50, "messages": MESSAGES}
        got = []
        if via == "stream helper":
            async with c.messages.stream(**options) as stream:
                async for text in stream.text_stream:
                    got.append(text)
                    if len(got) == 2:
                        break
            return got
        async for event in await c.messages.create(**options, stream=True):
            got.append(event.type)
            if len(got) == 2:
                break
        return got


async def read_all_anthropic(base_url, via):
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="sk", max_retries=0) as c:
        options = {"model": "claude-test", "max_tokens": 50, "messages": MESSAGES}
        if via == "stream helper":
            async with c.messages.stream(**options) as stream:
                return "".join([text async for text in stream.text_stream])
        events = [event async for event in await c.messages.create(**options, stream=True)]
        return "".join(e.delta.text for e in events if e.type == "content_block_delta")


@pytest.mark.parametrize("via", ["create", "stream helper"])
def test_an_async_anthropic_stream_broken_out_of_inside_asyncio_run_is_stored_whole(
    tmp_path, anthropic_server, closed_url, via
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with apirec.recording(tmp_path, mode="record") as rec:
            patch(rec, "anthropic")
            asyncio.run(read_two_anthropic(anthropic_server.base_url, via))
    assert "truncated" not in only(tmp_path)
    with apirec.recording(tmp_path, mode="replay") as rec:
        patch(rec, "anthropic")
        replayed = asyncio.run(read_all_anthropic(closed_url.removesuffix("/v1"), via))
    assert replayed == TEXT


def test_a_stream_whose_generators_the_loop_closed_behind_apirecs_back_is_stored_truncated(
    tmp_path, openai_server, closed_url
):
    # A runner that shuts the loop's async generators down with the class's own method (so
    # apirec cannot finish the stream first): they end, so the stream's source reports an end;
    # that end is not the stream's own.
    loop = asyncio.new_event_loop()
    with pytest.warns(RuntimeWarning) as warned:  # noqa: SIM117
        with apirec.recording(tmp_path, mode="record") as rec:
            patch(rec, "openai")
            try:
                loop.run_until_complete(read_two_openai(openai_server.base_url, "loop"))
                loop.run_until_complete(asyncio.BaseEventLoop.shutdown_asyncgens(loop))
            finally:
                loop.close()
    response = only(tmp_path)
    assert response["truncated"] is True
    assert "event loop" in response["truncated_reason"]
    (path,) = tmp_path.glob("*.json")
    message = str(warned[0].message)
    assert "openai.chat.completions.create()" in message and str(path) in message

    async def replay_all():
        async with openai.AsyncOpenAI(base_url=closed_url, api_key="sk", max_retries=0) as c:
            stream = await c.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            got = []
            with pytest.raises(apirec.IncompleteRecording, match="event loop"):
                async for chunk in stream:
                    got.append(chunk)
            return got

    with apirec.recording(tmp_path, mode="replay") as rec:
        patch(rec, "openai")
        got = asyncio.run(replay_all())
    assert len(got) == len(response["body"]) - 1  # the chunks received, then the error


def test_a_stream_whose_loop_closed_without_shutting_down_is_stored_truncated(tmp_path):
    @apirec.record(name="tokens")
    async def tokens():
        for i in range(5):
            yield i

    async def read_two():
        got = []
        async for i in tokens():
            got.append(i)
            if i == 1:
                break
        return got

    loop = asyncio.new_event_loop()
    with pytest.warns(RuntimeWarning, match=r"tokens\(\).*stored truncated") as warned:  # noqa: SIM117
        with apirec.recording(tmp_path, mode="record"):
            try:
                loop.run_until_complete(read_two())
            finally:
                loop.close()  # no shutdown_asyncgens: the rest can no longer be read
    response = only(tmp_path)
    assert response["body"] == [0, 1]
    assert response["truncated"] is True
    (path,) = tmp_path.glob("*.json")
    assert str(path) in str(warned[0].message)


# -- point 5: a stream cut by a transient failure ---------------------------------------------


def ask_sync(client, model):
    """An application's retry loop around a streamed answer."""
    for _ in range(3):
        try:
            stream = client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
            return openai_text(stream)
        except (openai.APIConnectionError, openai.APIError):
            continue
    raise AssertionError("every attempt failed")


async def ask_async(client, model):
    for _ in range(3):
        try:
            stream = await client.chat.completions.create(
                model=model, messages=MESSAGES, stream=True
            )
            return openai_text([chunk async for chunk in stream])
        except (openai.APIConnectionError, openai.APIError):
            continue
    raise AssertionError("every attempt failed")


@pytest.mark.parametrize("model", ["cut-once", "overloaded-once"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_stream_cut_by_a_transient_failure_gives_its_place_to_the_retry(
    tmp_path, openai_server, make_client, closed_url, model, is_async
):
    async def ask(base_url):
        client = make_client(base_url, is_async=is_async)
        return await ask_async(client, model) if is_async else ask_sync(client, model)

    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        assert await ask(openai_server.base_url) == TEXT
    assert openai_server.requests == 2  # the broken stream, then the retry
    assert rec.stats.errors_not_stored == 1
    response = only(tmp_path)
    assert "is_exception" not in response and "truncated" not in response
    openai_server.stop()

    with apirec.recording(tmp_path, mode="replay") as rec:
        patch(rec, "openai")
        client = make_client(closed_url, is_async=is_async)
        stream = client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
        if is_async:
            first = openai_text([chunk async for chunk in await stream])
        else:
            first = openai_text(stream)
    assert first == TEXT  # the first call replays the good stream, not the dropped one


async def test_an_overloaded_event_in_an_anthropic_stream_gives_its_place_to_the_retry(
    tmp_path, anthropic_server, closed_url
):
    options = {"model": "overloaded-once", "max_tokens": 50, "messages": MESSAGES}

    async def ask(base_url):
        async with anthropic.AsyncAnthropic(base_url=base_url, api_key="sk", max_retries=0) as c:
            for _ in range(3):
                try:
                    async with c.messages.stream(**options) as stream:
                        return "".join([text async for text in stream.text_stream])
                except anthropic.APIStatusError:
                    continue
        raise AssertionError("every attempt failed")

    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "anthropic")
        assert await ask(anthropic_server.base_url) == TEXT
    assert rec.stats.errors_not_stored == 1
    assert "is_exception" not in only(tmp_path)
    with apirec.recording(tmp_path, mode="replay") as rec:
        patch(rec, "anthropic")
        async with (
            anthropic.AsyncAnthropic(
                base_url=closed_url.removesuffix("/v1"), api_key="sk", max_retries=0
            ) as c,
            c.messages.stream(**options) as stream,
        ):  # the first call: the good one
            assert "".join([text async for text in stream.text_stream]) == TEXT


def flaky_tokens(failures):
    """A streaming function whose first calls break after one token with ``failures``."""
    left = list(failures)

    @apirec.record(name="tokens")
    async def tokens(prompt):
        yield "one"
        if left:
            raise left.pop(0)
        yield "two"

    async def ask(prompt):
        for _ in range(len(failures) + 1):
            try:
                return [token async for token in tokens(prompt)]
            except Exception:
                continue
        raise AssertionError("every attempt failed")

    return tokens, ask


async def test_a_function_stream_cut_by_a_reset_connection_is_not_stored(tmp_path):
    _, ask = flaky_tokens([ConnectionResetError("reset by peer"), TimeoutError()])
    async with apirec.recording(tmp_path, mode="record") as rec:
        assert await ask("hi") == ["one", "two"]
    assert rec.stats.errors_not_stored == 2
    assert only(tmp_path)["body"] == ["one", "two"]
    tokens, _ = flaky_tokens([])
    async with apirec.recording(tmp_path, mode="replay"):
        assert [t async for t in tokens("hi")] == ["one", "two"]


async def test_store_errors_all_keeps_the_cut_stream_first(tmp_path):
    _, ask = flaky_tokens([ConnectionResetError("reset by peer")])
    async with apirec.recording(tmp_path, mode="record", store_errors="all") as rec:
        assert await ask("hi") == ["one", "two"]
    assert rec.stats.errors_not_stored == 0
    cut, whole = stored(tmp_path)
    assert cut["is_exception"] is True and cut["body"] == ["one"]
    assert whole["body"] == ["one", "two"]


async def test_a_transient_failure_while_re_recording_an_expired_stream_keeps_the_old_one(
    tmp_path,
):
    _, ask = flaky_tokens([])
    async with apirec.recording(tmp_path, mode="record"):
        await ask("hi")
    (path,) = tmp_path.glob("*.json")
    entry = json.loads(path.read_text())
    entry["recorded_at"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(entry, indent=2))
    before = path.read_bytes()

    tokens, _ = flaky_tokens([ConnectionResetError("reset by peer")])
    async with apirec.recording(
        tmp_path, mode="record-if-missing", max_age="7d", on_expired="record"
    ) as rec:
        with pytest.raises(ConnectionResetError):
            [t async for t in tokens("hi")]
    assert rec.stats.errors_not_stored == 1
    assert path.read_bytes() == before  # the expired answer stays, whole
    assert len(list(tmp_path.glob("*.json"))) == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_truncated_sdk_stream_counts_only_the_chunks_the_caller_sees(
    tmp_path, openai_server, make_client, closed_url, is_async
):
    """The head an SDK stream stores first (its HTTP status and headers) is no chunk of the
    caller's: the truncation warning and IncompleteRecording count the events only."""
    client = make_client(openai_server.base_url, is_async=is_async)
    # one chunk read, two more read after the caller stopped: three events
    with pytest.warns(RuntimeWarning, match=r"stored truncated in .* after 3 chunks: reading"):
        async with apirec.recording(tmp_path, mode="record", stream_rest_chunks=2) as rec:
            patch(rec, "openai")
            stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            if is_async:
                async for _ in await stream:
                    break
            else:
                for _ in stream:
                    break
    (response,) = stored(tmp_path)
    assert response["truncated"] is True
    assert len(response["body"]) == 4  # the head, then the three events
    client = make_client(closed_url, is_async=is_async)
    seen = []
    with pytest.raises(apirec.IncompleteRecording, match=r"it was cut after 3 chunks while"):
        async with apirec.recording(tmp_path, mode="replay") as rec:
            patch(rec, "openai")
            stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            if is_async:
                async for chunk in await stream:
                    seen.append(chunk)
            else:
                seen.extend(stream)
    assert len(seen) == 3


# -- the caller reads on after apirec read the rest (issue 18, adversarial point 1) -----------


def test_a_sync_stream_read_after_its_recording_block_gives_the_caller_every_chunk(
    tmp_path, openai_server, make_client, closed_url
):
    def start(client, mode):  # a function hands the stream out of its recording block
        with apirec.recording(tmp_path, mode=mode) as rec:
            patch(rec, "openai")
            stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            first = next(stream)
        return first, stream

    first, stream = start(make_client(openai_server.base_url, is_async=False), "record")
    live = [first, *stream]  # the block read the rest: the caller still gets it, in order
    assert openai_text(live) == TEXT
    first, stream = start(make_client(closed_url, is_async=False), "replay")
    replayed = [first, *stream]
    assert [c.model_dump() for c in replayed] == [c.model_dump() for c in live]


async def test_an_async_stream_read_after_its_recording_block_gives_the_caller_every_chunk(
    tmp_path, openai_server, make_client
):
    client = make_client(openai_server.base_url, is_async=True)
    async with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        first = await stream.__anext__()
    live = [first] + [chunk async for chunk in stream]
    assert openai_text(live) == TEXT
    assert [c.model_dump() for c in live] == [c.model_dump() for c in openai_text_chunks(tmp_path)]


def openai_text_chunks(directory, model="m"):
    with apirec.recording(directory, mode="replay") as rec:
        patch(rec, "openai")
        client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk", max_retries=0)
        return list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))


def test_reading_on_after_closing_the_response_gives_the_rest_apirec_read(
    tmp_path, openai_server, make_client
):
    # Without apirec, what the SDK gives after this depends on how much of the body had
    # arrived; with apirec, the rest is read (for the recording) before the response closes,
    # so the caller gets it all, then the end, never an early end.
    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        stream = make_client(openai_server.base_url, is_async=False).chat.completions.create(
            model="m", messages=MESSAGES, stream=True
        )
        live = []
        for chunk in stream:
            live.append(chunk)
            if len(live) == 2:
                stream.response.close()  # apirec reads the rest here, for the recording
    assert openai_text(live) == TEXT
    assert [c.model_dump() for c in openai_text_chunks(tmp_path)] == [c.model_dump() for c in live]


def test_a_thread_mid_read_as_the_block_ends_gets_the_whole_stream_and_nothing_is_stored_wrong(
    tmp_path, openai_server, make_client
):
    client = make_client(openai_server.base_url, is_async=False)
    live, errors, reading = [], [], threading.Event()

    def worker(stream):
        try:
            for chunk in stream:
                live.append(chunk)
                reading.set()
                time.sleep(0.2)  # the block ends meanwhile, and reads the rest
        except BaseException as error:
            errors.append(error)

    with apirec.recording(tmp_path, mode="record") as rec:
        patch(rec, "openai")
        stream = client.chat.completions.create(model="gated", messages=MESSAGES, stream=True)
        thread = threading.Thread(target=worker, args=(stream,))
        thread.start()
        threading.Timer(0.5, openai_server.gate.set).start()
        assert reading.wait(10)
    thread.join(10)
    assert errors == []
    assert openai_text(live) == TEXT
    (response,) = stored(tmp_path)
    assert "exception_data" not in response and "truncated" not in response
    assert [c.model_dump() for c in openai_text_chunks(tmp_path, "gated")] == [
        c.model_dump() for c in live
    ]
