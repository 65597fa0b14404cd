"""patch_openai with apirec keys: real openai clients against a local server, then offline."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import openai
import pytest
from openai.pagination import AsyncPage, SyncPage
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.resources.models import AsyncModels
from openai.types import Completion, CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion

import apirec
from apirec.integrations.openai import patch_openai

MESSAGES = [{"role": "user", "content": "name a llama"}]
MODELS = ["gpt-test", "gpt-test-mini"]

CALLS = {
    "chat": (
        lambda c: c.chat.completions.create(model="gpt-test", messages=MESSAGES),
        ChatCompletion,
    ),
    "completion": (
        lambda c: c.completions.create(model="gpt-test", prompt="llamas are", max_tokens=5),
        Completion,
    ),
    "embedding": (
        lambda c: c.embeddings.create(model="embed-test", input=["llama", "alpaca"]),
        CreateEmbeddingResponse,
    ),
}


async def call(kind: str, c, *, is_async: bool):
    result = CALLS[kind][0](c)
    return await result if is_async else result


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("kind", sorted(CALLS))
async def test_records_then_replays_offline(
    kind, is_async, openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        live = await call(kind, make_client(base_url, is_async=is_async), is_async=is_async)
    assert openai_server.requests == 1
    assert rec.stats.recorded == 1
    assert isinstance(live, CALLS[kind][1])

    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        replayed = await call(kind, make_client(closed_url, is_async=is_async), is_async=is_async)
    assert openai_server.requests == 1  # nothing reached the server
    assert rec.stats.replayed == 1
    assert type(replayed) is type(live)
    assert replayed == live


async def test_sync_and_async_clients_share_recordings(
    openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        live = make_client(base_url, is_async=False).chat.completions.create(
            model="gpt-test", messages=MESSAGES
        )
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        replayed = await make_client(closed_url, is_async=True).chat.completions.create(
            model="gpt-test", messages=MESSAGES
        )
    assert replayed == live


async def test_sentinels_are_dropped_from_key_and_recording(
    openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        live = await make_client(base_url, is_async=True).chat.completions.create(
            model="gpt-test",
            messages=MESSAGES,
            temperature=openai.NOT_GIVEN,  # not the signature's own sentinel object
            user=openai.omit,
            timeout=openai.NOT_GIVEN,
        )
    (path,) = store_dir.glob("*.json")
    stored = json.loads(path.read_text())["request"]["args"]
    assert sorted(stored) == ["messages", "model"]

    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        replayed = await make_client(closed_url, is_async=True).chat.completions.create(
            model="gpt-test", messages=MESSAGES
        )
    assert replayed == live
    assert openai_server.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_model_list_replays_as_a_page(
    is_async, openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        pages = make_client(base_url, is_async=is_async).models.list()
        live = await pages if is_async else pages
    assert [m.id for m in live.data] == MODELS

    with apirec.recording(store_dir, mode="replay", repeats="last") as rec:  # listed twice
        patch_openai(rec)
        c = make_client(closed_url, is_async=is_async)
        if is_async:
            page = await c.models.list()
            iterated = [m async for m in c.models.list()]
            assert isinstance(page, AsyncPage)
        else:
            page = c.models.list()
            iterated = list(c.models.list())
            assert isinstance(page, SyncPage)
    assert page.data == live.data
    assert iterated == live.data
    assert all(type(m) is Model for m in iterated)
    assert not page.has_next_page()
    assert openai_server.requests == 1


async def test_model_list_is_shared_across_tests(openai_server, closed_url, store_dir, make_client):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        with apirec.test_context("tests/test_a.py::test_one"):
            live = await make_client(base_url, is_async=True).models.list()
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        with apirec.test_context("tests/test_b.py::test_two"):
            replayed = await make_client(closed_url, is_async=True).models.list()
    assert replayed.data == live.data


async def test_status_error_is_recorded_and_raised_again(
    openai_server, closed_url, store_dir, make_client
):
    base_url = openai_server.base_url
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        with pytest.raises(openai.BadRequestError) as live:
            await make_client(base_url, is_async=True).chat.completions.create(
                model="bad-model", messages=MESSAGES
            )
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        with pytest.raises(openai.BadRequestError) as replayed:
            await make_client(closed_url, is_async=True).chat.completions.create(
                model="bad-model", messages=MESSAGES
            )
    assert replayed.value.status_code == 400
    assert replayed.value.body == live.value.body
    assert str(replayed.value) == str(live.value)
    assert openai_server.requests == 1


async def test_replay_miss_names_the_call(closed_url, store_dir, make_client):
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        with pytest.raises(apirec.RecordingNotFound) as miss:
            await make_client(closed_url, is_async=True).embeddings.create(
                model="embed-test", input="never recorded"
            )
    assert miss.value.function == "openai.embeddings.create"
    assert miss.value.arguments == {"model": "embed-test", "input": "never recorded"}


async def test_once_the_recording_closes_calls_go_straight_through(
    openai_server, store_dir, make_client
):
    # The SDK is hooked once per process (patching it into each test's recording costs next
    # to nothing); the hooks name the SDK's own functions and route to a recording only while
    # one that patched the SDK is open.
    with apirec.recording(store_dir, mode="replay") as rec:
        patches = patch_openai(rec)
        with apirec.recording(store_dir, mode="replay") as inner:  # patching again stacks nothing
            patch_openai(inner)
    assert patches and not any(p.active for p in patches)  # the SDK and its placeholder keys
    assert inspect.unwrap(Completions.create.__apirec_original__).__qualname__ == (
        "Completions.create"
    )
    with apirec.recording(store_dir, mode="replay") as other:  # openai not patched into it
        c = make_client(openai_server.base_url, is_async=True)
        await c.embeddings.create(model="m", input="x")
    assert openai_server.requests == 1
    assert other.stats.replayed == other.stats.recorded == 0
    assert not list(store_dir.glob("*.json"))


async def test_no_active_recording_calls_through(openai_server, make_client):
    base_url = openai_server.base_url
    with apirec.recording(Path("unused"), mode="replay") as rec:
        patch_openai(rec)
    # patches are gone, and even a patched method with no recording active calls through
    result = await make_client(base_url, is_async=True).embeddings.create(model="m", input="x")
    assert len(result.data[0].embedding) == 8
    assert openai_server.requests == 1


def test_unknown_key_scheme_is_a_clear_error(store_dir):
    with apirec.recording(store_dir) as rec, pytest.raises(ValueError) as error:
        patch_openai(rec, keys="vcr")  # type: ignore[arg-type]
    assert str(error.value) == (
        "'vcr' is not a valid key scheme. Valid key schemes are: apirec, llama-stack"
    )


STREAMS = {
    "chat": lambda c: c.chat.completions.create(
        model="gpt-test", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ),
    "completion": lambda c: c.completions.create(
        model="gpt-test", prompt="llamas hum", stream=True
    ),
}


async def collect(stream, *, is_async: bool) -> list:
    if is_async:
        async with stream:
            return [chunk async for chunk in stream]
    with stream:
        return list(stream)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("kind", sorted(STREAMS))
async def test_streams_record_then_replay(
    kind, is_async, openai_server, closed_url, store_dir, make_client
):
    async def run(base_url):
        stream = STREAMS[kind](make_client(base_url, is_async=is_async))
        return await collect(await stream if is_async else stream, is_async=is_async)

    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        live = await run(openai_server.base_url)
    assert len(live) >= 3
    (path,) = store_dir.glob("*.json")
    assert json.loads(path.read_text())["response"]["is_streaming"] is True

    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        replayed = await run(closed_url)
    assert replayed == live
    assert openai_server.requests == 1


async def test_an_error_in_the_middle_of_a_stream_replays_after_its_chunks(
    openai_server, closed_url, store_dir, make_client
):
    async def run(base_url):
        chunks = []
        stream = await make_client(base_url).chat.completions.create(
            model="breaks-midway", messages=MESSAGES, stream=True
        )
        with pytest.raises(openai.APIError) as error:
            async for chunk in stream:
                chunks.append(chunk)
        return chunks, error.value

    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        live_chunks, live_error = await run(openai_server.base_url)
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        chunks, error = await run(closed_url)
    assert len(chunks) == 2
    assert chunks == live_chunks
    assert type(error) is type(live_error)
    assert str(error) == str(live_error)


@pytest.mark.parametrize(
    "method",
    [AsyncCompletions.create, Completions.create, AsyncModels.list],
    ids=["async-chat", "sync-chat", "async-models"],
)
def test_the_core_sees_the_sdk_signature_through_required_args(method):
    from apirec.keys.spec import KeySpec

    spec = KeySpec(method, name="x")
    resource = object()
    # the signature's own sentinels equal their defaults: the core drops them by itself ...
    assert spec.bind(resource, (), {"extra_body": None, "timeout": openai.not_given}) == {}
    # ... the SDK's other NotGiven instance is not the default object: canonical() drops it
    bound = spec.bind(resource, (), {"timeout": openai.NOT_GIVEN})
    assert bound == {"timeout": openai.NOT_GIVEN}
    assert spec.canonical(bound) == ({}, {})
