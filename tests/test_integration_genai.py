"""integrations.patch(rec, "google.genai"): the real google-genai SDK against a fake Gemini API.

Each test records through a real ``genai.Client`` (``client.models`` and
``client.aio.models``) talking to tests/genai_server.py, then replays with the fake counting
that it served nothing more.
"""

from __future__ import annotations

import json

import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

import apirec
from apirec import integrations
from tests.genai_server import GenAIServer


@pytest.fixture
def fake():
    server = GenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
async def models(fake):
    """Makes the ``models`` of real genai clients of the fake (sync or async), closed after."""
    made = []

    def make(is_async=False, api_key="k-test", client=False):
        options = types.HttpOptions(
            base_url=fake.url, retry_options=types.HttpRetryOptions(attempts=1)
        )
        made.append(genai.Client(api_key=api_key, http_options=options))
        aio_or_sync = made[-1].aio if is_async else made[-1]
        return aio_or_sync if client else aio_or_sync.models

    yield make
    for client in made:
        await client.aio.aclose()
        client.close()


async def run(result, is_async):
    return await result if is_async else result


async def drain(stream, is_async, stop_after=None):
    chunks = []
    if is_async:
        async for chunk in stream:
            chunks.append(chunk)
            if len(chunks) == stop_after:
                break
    else:
        for chunk in stream:
            chunks.append(chunk)
            if len(chunks) == stop_after:
                break
    return chunks


async def plain_calls(m, is_async):
    return [
        await run(m.generate_content(model="m", contents="llamas eat grass"), is_async),
        await run(
            m.generate_content(model="m", contents="hi", config={"temperature": 0.5}), is_async
        ),
        await run(m.embed_content(model="e", contents=["a", "llama"]), is_async),
        await run(m.count_tokens(model="m", contents="how many llamas"), is_async),
    ]


async def streamed_calls(m, is_async):
    stream = await run(m.generate_content_stream(model="m", contents="llamas eat grass"), is_async)
    return await drain(stream, is_async)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("calls", [plain_calls, streamed_calls], ids=["plain", "streamed"])
async def test_records_then_replays_without_the_server(calls, is_async, fake, store_dir, models):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = await calls(models(is_async), is_async)
    served = fake.requests
    assert served == rec.stats.recorded > 0

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai")
        replayed = await calls(models(is_async, api_key="another-key"), is_async)
    assert fake.requests == served  # the fake received nothing during replay
    assert rec.stats.replayed == served
    assert replayed == live
    assert {type(r) for r in replayed} <= {
        types.GenerateContentResponse,
        types.EmbedContentResponse,
        types.CountTokensResponse,
    }
    texts = [r.text for r in replayed if isinstance(r, types.GenerateContentResponse)]
    assert texts and all(texts)


async def test_sync_and_async_share_recordings(fake, store_dir, models):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = models().generate_content(model="m", contents="hi")
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai")
        replayed = await models(True).generate_content(model="m", contents="hi")
    assert replayed == live and fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_stream_broken_off_is_stored_whole(is_async, fake, store_dir, models):
    async def first_chunk(m):
        stream = await run(m.generate_content_stream(model="m", contents="a b c"), is_async)
        return await drain(stream, is_async, stop_after=1)

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = await first_chunk(models(is_async))
    (path,) = store_dir.rglob("*.json")
    stored = json.loads(path.read_text())["response"]
    assert stored["is_streaming"] and len(stored["body"]) == 5

    # the one stored stream, replayed twice: broken off again, then read whole
    async with apirec.recording(store_dir, mode="replay", repeats="last") as rec:
        integrations.patch(rec, "google.genai")
        assert await first_chunk(models(is_async)) == live
        whole = await drain(
            await run(
                models(is_async).generate_content_stream(model="m", contents="a b c"), is_async
            ),
            is_async,
        )
    assert "".join(c.text for c in whole) == "You said: a b c"
    assert fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_errors_replay_as_the_sdk_errors(is_async, fake, store_dir, models):
    async def failing(m):
        with pytest.raises(errors.ClientError) as missing:
            await run(m.generate_content(model="missing", contents="hi"), is_async)
        stream = await run(
            m.generate_content_stream(model="breaks-midway", contents="a b"), is_async
        )
        chunks = []
        with pytest.raises(errors.ClientError, match="the stream broke") as midway:
            if is_async:
                async for chunk in stream:
                    chunks.append(chunk)
            else:
                chunks.extend(stream)
        return missing.value, midway.value, chunks

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = await failing(models(is_async))
    served = fake.requests
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai")
        replayed = await failing(models(is_async))
    assert fake.requests == served == 2
    for was, now in zip(live[:2], replayed[:2], strict=True):
        assert type(now) is type(was)
        assert (str(now), now.code, now.status, now.message, now.details) == (
            str(was),
            was.code,
            was.status,
            was.message,
            was.details,
        )
    assert replayed[0].code == 404 and replayed[0].status == "NOT_FOUND"
    assert replayed[2] == live[2] and len(live[2]) == 1


def get_weather(city: str) -> str:
    """Get the weather of a city."""
    ran.append(city)
    return "sunny"


ran: list[str] = []


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_automatic_function_calling_runs_the_tool_on_replay(
    is_async, fake, store_dir, models
):
    config = types.GenerateContentConfig(tools=[get_weather])

    async def ask(m):
        return await run(m.generate_content(model="m", contents="Paris", config=config), is_async)

    ran.clear()
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = await ask(models(is_async))
    assert live.text == "It is sunny" and ran == ["Paris"]
    assert fake.requests == rec.stats.recorded == 2  # the function call, then its answer
    stored = [json.loads(p.read_text())["request"]["args"] for p in store_dir.rglob("*.json")]
    tools = [a["config"]["tools"][0]["python_function"]["name"] for a in stored]
    assert tools == ["get_weather", "get_weather"]
    assert "afc" not in json.dumps(stored)  # the SDK's usage header is left out

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai")
        replayed = await ask(models(is_async))
    assert replayed == live and ran == ["Paris", "Paris"]  # the tool ran again
    assert fake.requests == 2


def test_keys_leave_out_transport_options_and_take_user_options(fake, store_dir, models):
    def drop_model(arguments):
        return {k: v for k, v in arguments.items() if k != "model"}

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai", normalize=drop_model)
        config = types.GenerateContentConfig(
            temperature=0.5,
            http_options=types.HttpOptions(timeout=1000, headers={"x-goog-api-key": "k-secret"}),
        )
        live = models().generate_content(model="m", contents="hi", config=config)
    text = "".join(p.read_text() for p in store_dir.rglob("*.json"))
    assert "k-secret" not in text and "s3cr3t" not in text  # the key and the cookie
    assert '"x-trace": "t1"' in text  # other response headers are kept

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai", normalize=drop_model)
        replayed = models().generate_content(
            model="other",
            contents="hi",
            config={"temperature": 0.5, "http_options": {"timeout": 5, "headers": {}}},
        )
    assert replayed == live and fake.requests == 1


def test_an_ignored_name_no_method_has_is_refused(store_dir):
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(TypeError, match="tempreature"),
    ):
        integrations.patch(rec, "google.genai", ignore=["tempreature"])


class Recipe(BaseModel):
    name: str
    minutes: int


def test_structured_output_with_a_model_class_replays_parsed(fake, store_dir, models):
    config = {"response_mime_type": "application/json", "response_schema": Recipe}
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = models().generate_content(model="m", contents="pancakes", config=config)
    assert live.parsed == Recipe(name="pancakes", minutes=5)

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai")
        replayed = models().generate_content(model="m", contents="pancakes", config=config)
    assert type(replayed.parsed) is Recipe and replayed == live and fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_chats_record_and_replay_through_the_models(is_async, fake, store_dir, models):
    async def conversation(client):
        chat = client.chats.create(model="m")
        first = await run(chat.send_message("llamas hum"), is_async)
        second = await run(chat.send_message("alpacas too"), is_async)
        return first.text, second.text, len(chat.get_history())

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "google.genai")
        live = await conversation(models(is_async, client=True))
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "google.genai")
        replayed = await conversation(models(is_async, client=True))
    assert replayed == live == ("You said: llamas hum", "You said: alpacas too", 4)
    assert fake.requests == 2


def test_an_sdk_without_the_methods_apirec_patches_is_a_clear_error(store_dir, monkeypatch):
    monkeypatch.delattr(genai.models.AsyncModels, "_generate_content_stream")
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(integrations.UnknownIntegration, match="_generate_content_stream"),
    ):
        integrations.patch(rec, "google.genai")
    assert not hasattr(genai.models.Models._generate_content, "__wrapped__")  # nothing patched
