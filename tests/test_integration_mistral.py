"""integrations.patch(rec, "mistralai"): the real mistralai SDK against a fake, then replayed.

Each test records through a real ``mistralai.client.Mistral`` talking to the fake of
tests/mistral_server.py, then replays with the fake counting that it served nothing more.
"""

from __future__ import annotations

import pytest
from mistralai.client import Mistral, errors

import apirec
from apirec import integrations
from apirec.errors import TransientErrorWarning
from tests.integration_helpers import stored_bytes
from tests.mistral_server import MistralServer

HI = [{"role": "user", "content": "llamas eat grass"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather of a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture
def fake():
    server = MistralServer().start()
    yield server
    server.stop()


@pytest.fixture
async def mistral():
    """Makes real mistralai clients, their HTTP clients closed afterwards."""
    made = []

    def make(url, **options):
        made.append(Mistral(server_url=url, **options))
        return made[-1]

    yield make
    for client in made:
        client.__exit__(None, None, None)
        await client.__aexit__(None, None, None)


async def run(result, is_async):
    return await result if is_async else result


async def drain(stream, is_async):
    if is_async:
        return [event async for event in stream]
    with stream:
        return list(stream)


def method(resource, name, is_async):
    return getattr(resource, f"{name}_async" if is_async else name)


async def calls(c, is_async):
    return [
        await run(method(c.chat, "complete", is_async)(model="m", messages=HI), is_async),
        await run(
            method(c.chat, "complete", is_async)(model="m", messages=HI, tools=TOOLS), is_async
        ),
        await run(method(c.fim, "complete", is_async)(model="c", prompt="def add"), is_async),
        await run(
            method(c.embeddings, "create", is_async)(model="e", inputs=["a", "bb"]), is_async
        ),
        await drain(
            await run(method(c.chat, "stream", is_async)(model="m", messages=HI), is_async),
            is_async,
        ),
        await drain(
            await run(method(c.fim, "stream", is_async)(model="c", prompt="def add"), is_async),
            is_async,
        ),
    ]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_records_then_replays_without_the_server(
    is_async, fake, store_dir, mistral, monkeypatch
):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mistralai")
        live = await calls(mistral(fake.url, api_key="sk-test"), is_async)
    served = fake.requests
    assert served == len(live) == rec.stats.recorded

    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mistralai")
        replayed = await calls(mistral("http://127.0.0.1:9"), is_async)
    assert fake.requests == served and rec.stats.replayed == len(live)
    assert replayed == live
    assert type(replayed[0]).__name__ == "ChatCompletionResponse"
    assert replayed[1].choices[0].message.tool_calls[0].function.name == "get_weather"
    assert [type(e).__name__ for e in replayed[4]] == ["CompletionEvent"] * len(live[4])
    text = "".join(e.data.choices[0].delta.content for e in replayed[4])
    assert text == "You said: llamas eat grass"
    assert b"sk-test" not in stored_bytes(store_dir)


async def test_sync_and_async_share_recordings(fake, store_dir, mistral):
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mistralai")
        client = mistral(fake.url, api_key="sk-test")
        live = [
            client.chat.complete(model="m", messages=HI),
            list(client.chat.stream(model="m", messages=HI)),
        ]
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mistralai")
        client = mistral(fake.url, api_key="sk-test")
        stream = await client.chat.stream_async(model="m", messages=HI)
        replayed = [
            await client.chat.complete_async(model="m", messages=HI),
            [e async for e in stream],
        ]
    assert replayed == live and fake.requests == 2


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("model", "error_class"),
    [("missing", errors.HTTPValidationError), ("forbidden", errors.SDKError)],
)
async def test_errors_replay_as_the_sdks_own(
    model, error_class, is_async, fake, store_dir, mistral
):
    async def fail(url):
        client = mistral(url, api_key="sk-test")
        with pytest.raises(error_class) as info:
            await run(method(client.chat, "complete", is_async)(model=model, messages=HI), is_async)
        return info.value

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "mistralai")
        live = await fail(fake.url)
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "mistralai")
        replayed = await fail("http://127.0.0.1:9")
    assert fake.requests == 1
    assert (str(replayed), replayed.status_code, replayed.body) == (
        str(live),
        live.status_code,
        live.body,
    )
    assert replayed.raw_response.status_code == live.status_code
    assert replayed.headers["content-type"] == "application/json"
    assert replayed.headers["set-cookie"] == "<redacted>"
    if error_class is errors.HTTPValidationError:
        assert replayed.data == live.data
    assert b"cookie-secret" not in stored_bytes(store_dir)


def test_a_transient_error_is_not_stored(fake, store_dir, mistral):
    with (
        pytest.warns(TransientErrorWarning, match=r"SDKError \(HTTP 429\)"),
        apirec.recording(store_dir, mode="record") as rec,
    ):
        integrations.patch(rec, "mistralai")
        client = mistral(fake.url, api_key="sk-test")
        with pytest.raises(errors.SDKError):
            client.chat.complete(model="busy", messages=HI)
    assert not list(store_dir.rglob("*.json"))


def test_ignore_names_a_parameter_of_the_methods(store_dir):
    with apirec.recording(store_dir, mode="replay") as rec:
        with pytest.raises(TypeError, match="tempreature"):
            integrations.patch(rec, "mistralai", ignore=["tempreature"])
        assert integrations.patch(rec, "mistralai", ignore=["temperature"])
