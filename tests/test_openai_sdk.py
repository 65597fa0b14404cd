"""The real openai SDK against a local server: record through rec.patch, stop it, replay."""

from __future__ import annotations

import json

import openai
import pytest
from openai.pagination import SyncPage
from openai.types import CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

import apirec
from apirec.streams.recording import AsyncRecordingStream
from apirec.streams.replay import AsyncReplayStream, ReplayStream

MESSAGES = [{"role": "user", "content": "llamas eat grass"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "web_search", "parameters": {"type": "object", "properties": {}}},
    }
]
ASYNC_TARGETS = {
    "openai.resources.chat.completions.AsyncCompletions.create": "openai.chat",
    "openai.resources.embeddings.AsyncEmbeddings.create": "openai.embeddings",
}
SYNC_TARGETS = {
    "openai.resources.chat.completions.Completions.create": "openai.chat",
    "openai.resources.embeddings.Embeddings.create": "openai.embeddings",
    "openai.resources.models.Models.list": "openai.models",
}


@pytest.fixture
def sdk(openai_server, make_client):
    """Makes real SDK clients of the local server (no retries: a refused connection fails at
    once), closed afterwards."""
    return lambda is_async: make_client(openai_server.base_url, is_async=is_async)


def patch_all(rec, targets):
    for target, name in targets.items():
        rec.patch(target, name=name)


def text_of(chunks):
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


async def async_scenario(client):
    """What an application does: a chat, a stream, a tool-call stream, embeddings, an error."""
    chat = await client.chat.completions.create(model="gpt-test", messages=MESSAGES)
    stream = await client.chat.completions.create(
        model="gpt-test",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    async with await client.chat.completions.create(
        model="gpt-test", messages=MESSAGES, tools=TOOLS, stream=True
    ) as tool_stream:
        tool_chunks = [c async for c in tool_stream]
    embeddings = await client.embeddings.create(model="emb-test", input=["a", "llama"])
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(model="bad-model", messages=MESSAGES)
    return chat, chunks, tool_chunks, embeddings, info.value


def sync_scenario(client):
    chat = client.chat.completions.create(model="gpt-test", messages=MESSAGES, tools=TOOLS)
    with client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)
    embeddings = client.embeddings.create(model="emb-test", input="llama")
    models = client.models.list()
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="bad-model", messages=MESSAGES)
    return chat, chunks, embeddings, models, info.value


def assert_same_error(replayed, recorded):
    assert type(replayed) is type(recorded) is openai.BadRequestError
    assert replayed.status_code == recorded.status_code == 400
    assert replayed.body == recorded.body
    assert replayed.message == recorded.message
    assert replayed.code == recorded.code == "model_not_found"
    assert replayed.param == recorded.param == "model"


async def test_async_client_records_then_replays_without_the_server(openai_server, sdk, tmp_path):
    client = sdk(True)
    async with apirec.recording(tmp_path, mode="record") as rec:
        patch_all(rec, ASYNC_TARGETS)
        recorded = await async_scenario(client)
    assert openai_server.requests == 5
    chat, chunks, tool_chunks, embeddings, error = recorded
    assert chat.choices[0].message.content == "You said: llamas eat grass"
    assert text_of(chunks) == "You said: llamas eat grass"
    assert chunks[-1].usage.total_tokens == 9
    arguments = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments
        for c in tool_chunks
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(arguments) == {"query": "llamas eat grass"}

    openai_server.stop()
    with pytest.raises(openai.APIConnectionError):  # really gone
        await client.models.list()

    async with apirec.recording(tmp_path, mode="replay") as rec:
        patch_all(rec, ASYNC_TARGETS)
        replayed = await async_scenario(client)
    assert rec.stats.replayed == 5
    assert rec.stats.missed == 0
    r_chat, r_chunks, r_tool_chunks, r_embeddings, r_error = replayed
    assert type(r_chat) is ChatCompletion
    assert r_chat == chat
    assert all(type(c) is ChatCompletionChunk for c in r_chunks + r_tool_chunks)
    assert r_chunks == chunks
    assert r_tool_chunks == tool_chunks
    assert type(r_embeddings) is CreateEmbeddingResponse
    assert r_embeddings == embeddings
    assert_same_error(r_error, error)


def test_sync_client_records_then_replays_without_the_server(openai_server, sdk, tmp_path):
    client = sdk(False)
    with apirec.recording(tmp_path, mode="record") as rec:
        patch_all(rec, SYNC_TARGETS)
        recorded = sync_scenario(client)
    chat, chunks, embeddings, models, error = recorded
    assert chat.choices[0].message.tool_calls[0].function.name == "web_search"
    assert text_of(chunks) == "You said: llamas eat grass"
    assert [m.id for m in models] == ["gpt-test", "gpt-test-mini"]
    openai_server.stop()

    with apirec.recording(tmp_path, mode="replay") as rec:
        patch_all(rec, SYNC_TARGETS)
        r_chat, r_chunks, r_embeddings, r_models, r_error = sync_scenario(client)
    assert rec.stats.replayed == 5
    assert r_chat == chat
    assert r_chunks == chunks
    assert r_embeddings == embeddings
    assert type(r_models) is type(models)  # openai.pagination.SyncPage[Model]
    assert r_models.data == models.data
    assert [m.id for m in r_models] == ["gpt-test", "gpt-test-mini"]
    assert_same_error(r_error, error)


async def test_replayed_sdk_stream_comes_chunk_by_chunk(openai_server, sdk, tmp_path):
    client = sdk(True)
    target = "openai.resources.chat.completions.AsyncCompletions.create"
    async with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(target)
        stream = await client.chat.completions.create(model="gated", messages=MESSAGES, stream=True)
        assert isinstance(stream, AsyncRecordingStream)
        assert stream.response.status_code == 200  # the SDK stream's own attributes
        first = await anext(stream)
        # The caller holds the first chunk while the server is still holding the second.
        assert openai_server.sent == 1
        openai_server.gate.set()
        rest = [c async for c in stream]
    assert openai_server.sent == 1 + sum(1 for c in rest if c.choices[0].finish_reason is None)
    openai_server.stop()

    async with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(target)
        stream = await client.chat.completions.create(model="gated", messages=MESSAGES, stream=True)
        assert isinstance(stream, AsyncReplayStream)
        assert await anext(stream) == first
        await stream.close()
    assert text_of([first, *rest]) == "You said: llamas eat grass"


@pytest.mark.parametrize("is_async", [False, True])
async def test_sdk_error_in_the_middle_of_a_stream(openai_server, sdk, tmp_path, is_async):
    client = sdk(is_async)
    target = (
        "openai.resources.chat.completions.AsyncCompletions.create"
        if is_async
        else "openai.resources.chat.completions.Completions.create"
    )

    async def consume():
        got = []
        try:
            if is_async:
                stream = await client.chat.completions.create(
                    model="breaks-midway", messages=MESSAGES, stream=True
                )
                async for c in stream:
                    got.append(c)
            else:
                stream = client.chat.completions.create(
                    model="breaks-midway", messages=MESSAGES, stream=True
                )
                for c in stream:
                    got.append(c)
        except openai.APIError as e:
            return stream, got, e
        raise AssertionError("the stream did not fail")

    async with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(target)
        _, chunks, error = await consume()
    assert [c.choices[0].delta.content for c in chunks] == ["", "You"]
    openai_server.stop()

    async with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(target)
        stream, r_chunks, r_error = await consume()
    assert isinstance(stream, AsyncReplayStream if is_async else ReplayStream)
    assert r_chunks == chunks
    assert type(r_error) is type(error) is openai.APIError
    assert r_error.message == error.message == "The response was filtered by the content policy"
    assert r_error.body == error.body


async def test_replay_miss_with_the_sdk_names_the_call(openai_server, sdk, tmp_path):
    client = sdk(True)
    async with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch("openai.resources.chat.completions.AsyncCompletions.create", name="openai.chat")
        with pytest.raises(apirec.RecordingNotFound, match=r"openai\.chat"):
            await client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
    assert openai_server.requests == 0


@pytest.mark.parametrize(
    ("type_name", "problem"),
    [
        ("openai.pagination.SyncPage[os.system]", "not a pydantic model"),
        ("openai.pagination.SyncPage[no_such_pkg.Model]", "not imported"),
        ("openai.types.model.Model[openai.types.model.Model]", "not a generic pydantic model"),
    ],
)
def test_generic_page_names_resolve_under_the_same_safety_rules(type_name, problem):
    model = Model(id="m", created=0, object="model", owned_by="o")
    page = SyncPage[Model](data=[model], object="list")
    encoded = apirec.encode(page)
    assert encoded["__type__"] == "openai.pagination.SyncPage[openai.types.model.Model]"
    assert apirec.decode(encoded).data == page.data
    with pytest.raises(apirec.DecodeError, match=problem):
        apirec.decode({"__type__": type_name, "__data__": {"data": []}})
