"""The kind of a replayed stream (sync or async) follows the caller, not the recording
(DESIGN §13): a stream recorded through an async client replays to a sync one, and back,
through every integration; a ``@record`` generator whose own kind changed is a clear error."""

from __future__ import annotations

import inspect

import anthropic
import ollama
import openai
import pytest
from google import genai
from google.genai import types

import apirec
from apirec.integrations import patch
from tests.anthropic_server import AnthropicServer
from tests.genai_server import GenAIServer
from tests.ollama_server import OllamaServer

MESSAGES = [{"role": "user", "content": "name a llama"}]
# (recorded by, replayed by): each way across
ACROSS = pytest.mark.parametrize(
    ("recorded_async", "replayed_async"), [(True, False), (False, True)], ids=["a2s", "s2a"]
)


async def read(stream, is_async):
    if is_async:
        return [chunk async for chunk in stream]
    return list(stream)


async def maybe(value, is_async):
    return await value if is_async else value


async def across(store_dir, sdk, run, recorded_async, replayed_async):
    """``run(is_async)`` recorded with one kind of client, replayed with the other."""
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, sdk)
        live = await run(recorded_async)
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, sdk)
        replayed = await run(replayed_async)
    assert rec.stats.replayed >= 1 and rec.stats.missed == 0
    return live, replayed


@pytest.fixture
async def opened():
    """Clients made by a test, each closed after it (``opened.append(client)``)."""
    made = []
    yield made
    for client in made:
        if isinstance(client, genai.Client):
            await client.aio.aclose()
        closed = client.close()
        if inspect.isawaitable(closed):
            await closed


@pytest.fixture
def openai_client(openai_server, opened):
    def make(is_async):
        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        opened.append(cls(base_url=openai_server.base_url, api_key="sk-test", max_retries=0))
        return opened[-1]

    return make


@ACROSS
async def test_openai_create_stream_follows_the_caller(
    recorded_async, replayed_async, store_dir, openai_client
):
    async def run(is_async):
        c = openai_client(is_async)
        stream = await maybe(
            c.chat.completions.create(model="m", messages=MESSAGES, stream=True), is_async
        )
        assert type(stream) is (openai.AsyncStream if is_async else openai.Stream)
        chunks = await read(stream, is_async)
        return [chunk.choices[0].delta.content for chunk in chunks if chunk.choices]

    live, replayed = await across(store_dir, "openai", run, recorded_async, replayed_async)
    assert replayed == live and "".join(filter(None, live)) == "You said: name a llama"


@ACROSS
async def test_openai_stream_helpers_follow_the_caller(
    recorded_async, replayed_async, store_dir, openai_client
):
    async def run(is_async):
        c = openai_client(is_async)
        chat = c.chat.completions.stream(model="m", messages=MESSAGES)
        responses = c.responses.stream(model="m", input="name a llama")
        if is_async:
            async with chat as stream:
                events = [e.type async for e in stream]
                final = (await stream.get_final_completion()).choices[0].message.content
            async with responses as stream:
                events += [e.type async for e in stream]
                text = (await stream.get_final_response()).output_text
        else:
            with chat as stream:
                events = [e.type for e in stream]
                final = stream.get_final_completion().choices[0].message.content
            with responses as stream:
                events += [e.type for e in stream]
                text = stream.get_final_response().output_text
        return events, final, text

    live, replayed = await across(store_dir, "openai", run, recorded_async, replayed_async)
    assert replayed == live and live[1] == live[2] == "You said: name a llama"


@ACROSS
async def test_openai_streaming_response_follows_the_caller(
    recorded_async, replayed_async, store_dir, openai_client
):
    async def run(is_async):
        c = openai_client(is_async)
        method = c.chat.completions.with_streaming_response.create
        manager = method(model="m", messages=MESSAGES)
        if is_async:
            async with manager as response:
                return response.status_code, (await response.parse()).choices[0].message.content
        with manager as response:
            return response.status_code, response.parse().choices[0].message.content

    live, replayed = await across(store_dir, "openai", run, recorded_async, replayed_async)
    assert replayed == live == (200, "You said: name a llama")


@ACROSS
async def test_anthropic_streams_follow_the_caller(
    recorded_async, replayed_async, store_dir, opened
):
    server = AnthropicServer().start()
    try:

        async def run(is_async):
            cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
            c = cls(base_url=server.base_url.removesuffix("/v1"), api_key="k", max_retries=0)
            opened.append(c)
            options = {"model": "claude-test", "max_tokens": 50, "messages": MESSAGES}
            stream = await maybe(c.messages.create(**options, stream=True), is_async)
            assert type(stream) is (anthropic.AsyncStream if is_async else anthropic.Stream)
            events = [e.type for e in await read(stream, is_async)]
            helper = c.messages.stream(**options)
            if is_async:
                async with helper as s:
                    text = await s.get_final_text()
            else:
                with helper as s:
                    text = s.get_final_text()
            return events, text

        live, replayed = await across(store_dir, "anthropic", run, recorded_async, replayed_async)
    finally:
        server.stop()
    assert replayed == live and live[1] == "You said: name a llama"


@ACROSS
async def test_ollama_streams_follow_the_caller(recorded_async, replayed_async, store_dir, opened):
    server = OllamaServer().start()
    try:

        async def run(is_async):
            c = (ollama.AsyncClient if is_async else ollama.Client)(host=server.url)
            opened.append(c)
            stream = await maybe(
                c.chat(model="m", messages=[{"role": "user", "content": "hi"}], stream=True),
                is_async,
            )
            return [part.message.content for part in await read(stream, is_async)]

        live, replayed = await across(store_dir, "ollama", run, recorded_async, replayed_async)
    finally:
        server.stop()
    assert replayed == live and live


@ACROSS
async def test_genai_streams_follow_the_caller(recorded_async, replayed_async, store_dir, opened):
    server = GenAIServer().start()
    try:

        async def run(is_async):
            options = types.HttpOptions(
                base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1)
            )
            client = genai.Client(api_key="k-test", http_options=options)
            opened.append(client)
            models = client.aio.models if is_async else client.models
            stream = await maybe(
                models.generate_content_stream(model="m", contents="a b c"), is_async
            )
            return [chunk.text for chunk in await read(stream, is_async)]

        live, replayed = await across(
            store_dir, "google.genai", run, recorded_async, replayed_async
        )
    finally:
        server.stop()
    assert replayed == live and live


async def test_a_recorded_function_whose_stream_kind_changed_says_to_record_again(store_dir):
    @apirec.record(name="words")
    async def words():
        for word in ("a", "b"):
            yield word

    with apirec.recording(store_dir, mode="record"):
        assert [w async for w in words()] == ["a", "b"]

    @apirec.record(name="words")
    def words_now():  # the same function, now a sync generator
        yield from ("a", "b")

    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.ApirecError) as error:
        words_now()
    message = str(error.value)
    assert "words()" in message and "async" in message and "sync" in message
    assert "record" in message and str(store_dir) in message


async def test_the_other_way_round_too(store_dir):
    @apirec.record(name="numbers")
    def numbers():
        yield from (1, 2)

    with apirec.recording(store_dir, mode="record"):
        assert list(numbers()) == [1, 2]

    @apirec.record(name="numbers")
    async def numbers_now():
        yield 1

    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.ApirecError) as error:
        numbers_now()
    assert "numbers()" in str(error.value) and "record" in str(error.value)


# -- send / asend / throw go through the recording (issue 18, adversarial point 2) -----------


def test_chunks_taken_with_send_are_recorded_and_replayed(store_dir):
    @apirec.record(name="tokens")
    def tokens(n):
        for i in range(n):
            answer = yield f"tok{i}"
            if answer is not None:
                yield f"got {answer}"  # the generator's answer to a sent value is a chunk

    def consume():
        stream = tokens(4)
        return [next(stream), stream.send(None), stream.send("x"), *stream]

    with apirec.recording(store_dir, mode="record"):
        live = consume()
    assert live == ["tok0", "tok1", "got x", "tok2", "tok3"]
    with apirec.recording(store_dir, mode="replay"):
        assert consume() == live  # sent values are not part of the key: recorded answers

    with apirec.recording(store_dir, mode="replay"):
        assert list(tokens(4)) == live  # stored complete, nothing skipped


async def test_chunks_taken_with_asend_are_recorded_and_replayed(store_dir):
    @apirec.record(name="atokens")
    async def atokens(n):
        for i in range(n):
            yield f"tok{i}"

    async def consume():
        stream = atokens(4)
        return [await stream.__anext__(), await stream.asend(None)] + [t async for t in stream]

    with apirec.recording(store_dir, mode="record"):
        live = await consume()
    assert live == ["tok0", "tok1", "tok2", "tok3"]
    with apirec.recording(store_dir, mode="replay"):
        assert [t async for t in atokens(4)] == live  # stored complete, nothing skipped
    with apirec.recording(store_dir, mode="replay"):
        assert await consume() == live


def test_an_error_thrown_into_a_recorded_generator_ends_its_recording(store_dir):
    @apirec.record(name="catcher")
    def catcher():
        try:
            yield 1
        except KeyError:
            yield "caught"

    with apirec.recording(store_dir, mode="record"):
        stream = catcher()
        assert next(stream) == 1
        assert stream.throw(KeyError("k")) == "caught"
        assert list(stream) == []
    with apirec.recording(store_dir, mode="replay"):
        assert list(catcher()) == [1, "caught"]


# -- a function that changed between stream and value (issue 18, adversarial point 4) ---------


def _gen():
    yield 1
    yield 2


async def _agen():
    yield 1
    yield 2


def _value():
    return [1, 2]


async def _avalue():
    return [1, 2]


async def _use(function, how):
    result = function()
    if how == "await":
        return await result
    if how == "async for":
        return [item async for item in result]
    if how == "for":
        return list(result)
    return len(result)


@pytest.mark.parametrize(
    ("before", "use_before", "now", "use_now"),
    [
        (_agen, "async for", _avalue, "await"),
        (_avalue, "await", _agen, "async for"),
        (_value, "len", _agen, "async for"),
        (_gen, "for", _value, "len"),
        (_value, "len", _gen, "for"),
        (_gen, "for", _avalue, "await"),
    ],
    ids=lambda f: getattr(f, "__name__", f),
)
async def test_a_function_that_changed_between_stream_and_value_says_to_record_again(
    store_dir, before, use_before, now, use_now
):
    with apirec.recording(store_dir, mode="record"):
        assert await _use(apirec.record(name="f")(before), use_before) in ([1, 2], 2)
    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.ApirecError) as error:
        await _use(apirec.record(name="f")(now), use_now)
    message = str(error.value)
    assert message.startswith("f() was recorded as ") and str(store_dir) in message
    assert "record it again" in message


async def test_a_generator_function_unchanged_still_replays(store_dir):
    for function, how in ((_gen, "for"), (_agen, "async for"), (_value, "len")):
        with apirec.recording(store_dir, mode="record"):
            live = await _use(apirec.record(name=function.__name__)(function), how)
        with apirec.recording(store_dir, mode="replay"):
            assert await _use(apirec.record(name=function.__name__)(function), how) == live
