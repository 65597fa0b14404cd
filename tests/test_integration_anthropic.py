"""integrations.patch(rec, "anthropic"): the real anthropic SDK, sync and async, recorded
against tests/anthropic_server.py, then replayed with nothing listening."""

from __future__ import annotations

import json

import anthropic
import pytest

import apirec
from apirec.integrations import patch
from tests.integration_helpers import SECRETS, record_then_replay, stored_bytes

MESSAGES = [{"role": "user", "content": "name a llama"}]
LONG = [{"role": "user", "content": "one two three four five six"}]
sync_and_async = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


@pytest.fixture
def server(anthropic_server):
    return anthropic_server


@pytest.fixture
def closed(closed_url):
    return closed_url.removesuffix("/v1")


@pytest.fixture
async def client():
    made = []

    def make(base_url, *, is_async):
        cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        made.append(cls(base_url=base_url, api_key="sk-test", max_retries=0))
        return made[-1]

    yield make
    for c in made:
        if isinstance(c, anthropic.AsyncAnthropic):
            await c.close()
        else:
            c.close()


async def maybe(value, is_async):
    return await value if is_async else value


def create(c, **more):
    return c.messages.create(
        **{"model": "claude-test", "max_tokens": 50, "messages": MESSAGES, **more}
    )


@sync_and_async
async def test_a_plain_message_replays_with_its_request_id(
    is_async, server, closed, store_dir, client
):
    async def run(url):
        return await maybe(create(client(url, is_async=is_async)), is_async)

    live, replayed = await record_then_replay(store_dir, server, closed, run, "anthropic")
    assert type(replayed) is anthropic.types.Message
    assert replayed == live
    assert replayed.content[0].text == "You said: name a llama"
    assert replayed._request_id == "req_1"


@sync_and_async
async def test_a_stream_replays_in_full_with_its_response(
    is_async, server, closed, store_dir, client
):
    async def run(url):
        stream = await maybe(create(client(url, is_async=is_async), stream=True), is_async)
        assert isinstance(stream, anthropic.AsyncStream if is_async else anthropic.Stream)
        events = [e async for e in stream] if is_async else list(stream)
        return events, stream.response.status_code, stream.response.headers["request-id"]

    live, replayed = await record_then_replay(store_dir, server, closed, run, "anthropic")
    assert replayed == live
    assert replayed[0][0].type == "message_start"
    assert replayed[1:] == (200, "req_1")


@sync_and_async
async def test_a_stream_broken_off_is_stored_whole(is_async, server, closed, store_dir, client):
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "anthropic")
        c = client(server.base_url, is_async=is_async)
        stream = await maybe(create(c, messages=LONG, stream=True), is_async)
        if is_async:
            async for _ in stream:
                break
            await stream.close()
        else:
            for _ in stream:
                break
            stream.close()
    (path,) = store_dir.glob("*.json")
    stored = json.loads(path.read_text())["response"]
    assert "truncated" not in stored
    assert len(stored["body"]) == 1 + 13  # the head, then every event


@sync_and_async
async def test_the_messages_stream_helper_replays(is_async, server, closed, store_dir, client):
    async def run(url):
        c = client(url, is_async=is_async)
        manager = c.messages.stream(model="claude-test", max_tokens=50, messages=MESSAGES)
        if is_async:
            async with manager as stream:
                text = [t async for t in stream.text_stream]
                final = await stream.get_final_message()
        else:
            with manager as stream:
                text = list(stream.text_stream)
                final = stream.get_final_message()
        return text, final, stream.request_id

    live, replayed = await record_then_replay(store_dir, server, closed, run, "anthropic")
    assert replayed == live
    assert "".join(replayed[0]) == "You said: name a llama"
    assert replayed[2] == "req_1"


async def stream_text(c, is_async, **args):
    """The text of one ``messages.stream()``, read through the helper."""
    manager = c.messages.stream(**{"model": "claude-test", "max_tokens": 50, **args})
    if is_async:
        async with manager as stream:
            return "".join([t async for t in stream.text_stream])
    with manager as stream:
        return "".join(stream.text_stream)


@pytest.mark.parametrize(
    ("record_async", "replay_async"),
    [(False, False), (False, True), (True, False), (True, True)],
    ids=["sync-sync", "sync-async", "async-sync", "async-async"],
)
async def test_the_messages_stream_helper_is_named_and_keyed_by_its_call(
    record_async, replay_async, server, closed, store_dir, client
):
    """``messages.stream()`` makes its request when its manager is entered, after the method
    has returned: it was recorded by that request, ``anthropic POST /v1/messages`` keyed by
    the JSON body, so ``ignore=`` names the arguments of ``create`` but not of ``stream``
    (``metadata`` differing between runs missed). It is named as written and keyed by its
    arguments, like every other call, sync and async alike."""
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "anthropic", ignore=["metadata"])
        c = client(server.base_url, is_async=record_async)
        live = await stream_text(c, record_async, messages=MESSAGES, metadata={"user_id": "a"})
    (path,) = store_dir.glob("*.json")
    request = json.loads(path.read_text())["request"]
    assert request["function"] == "anthropic.messages.stream"
    assert request["args"] == {"max_tokens": 50, "messages": MESSAGES, "model": "claude-test"}
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "anthropic", ignore=["metadata"])
        c = client(closed, is_async=replay_async)
        replayed = await stream_text(c, replay_async, messages=MESSAGES, metadata={"user_id": "b"})
        assert replayed == live == "You said: name a llama"
        with pytest.raises(apirec.RecordingNotFound) as missed:
            await stream_text(c, replay_async, messages=LONG)
    assert "No recording of anthropic.messages.stream() for this call" in str(missed.value)


def test_a_request_made_outside_a_method_is_named_without_a_stray_call(
    server, closed, store_dir, client
):
    """A request made outside any resource method (``client.post``) is recorded by its
    request, ``anthropic POST /v1/messages``: the messages about it named it
    ``anthropic POST /v1/messages()``, a call of no function."""

    def post(c, messages):
        body = {"model": "claude-test", "max_tokens": 50, "messages": messages}
        return c.post("/v1/messages", body=body, cast_to=anthropic.types.Message)

    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "anthropic")
        post(client(server.base_url, is_async=False), MESSAGES)
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "anthropic")
        with pytest.raises(apirec.RecordingNotFound) as missed:
            post(client(closed, is_async=False), LONG)
    message = str(missed.value)
    assert "anthropic POST /v1/messages" in message and "messages()" not in message, message


@sync_and_async
async def test_raw_responses_and_count_tokens_replay(is_async, server, closed, store_dir, client):
    async def run(url):
        c = client(url, is_async=is_async)
        raw = await maybe(
            c.messages.with_raw_response.create(
                model="claude-test", max_tokens=50, messages=MESSAGES
            ),
            is_async,
        )
        tokens = await maybe(
            c.messages.count_tokens(model="claude-test", messages=MESSAGES), is_async
        )
        parsed = await maybe(raw.parse(), is_async)
        return raw.status_code, raw.headers["request-id"], parsed, tokens.input_tokens

    live, replayed = await record_then_replay(store_dir, server, closed, run, "anthropic")
    assert replayed == live
    assert replayed[:2] == (200, "req_1")
    assert type(replayed[2]) is anthropic.types.Message


@sync_and_async
async def test_errors_replay_as_the_sdk_classes(is_async, server, closed, store_dir, client):
    async def run(url):
        with pytest.raises(anthropic.BadRequestError) as error:
            await maybe(create(client(url, is_async=is_async), model="bad-model"), is_async)
        return error.value

    live, replayed = await record_then_replay(store_dir, server, closed, run, "anthropic")
    assert replayed.status_code == replayed.response.status_code == 400
    assert replayed.request_id == live.request_id == "req_1"
    assert replayed.response.headers["request-id"] == "req_1"
    assert replayed.body == live.body
    assert str(replayed) == str(live)
    # the recorded request's URL (the server's, not the replaying client's), as openai's
    assert str(replayed.response.request.url) == str(live.response.request.url)
    assert replayed.request is replayed.response.request


async def test_an_error_event_in_a_stream_replays_after_its_events(
    server, closed, store_dir, client
):
    async def run(url):
        stream = await create(client(url, is_async=True), model="breaks-midway", stream=True)
        events = []
        with pytest.raises(anthropic.APIStatusError) as error:
            async for event in stream:
                events.append(event.type)
        return events, type(error.value), str(error.value)

    live, replayed = await record_then_replay(store_dir, server, closed, run, "anthropic")
    assert replayed == live
    assert replayed[0] == ["message_start", "content_block_start", "content_block_delta"]


async def test_keys_leave_out_timeouts_and_client_versions_and_headers_are_redacted(
    server, closed, store_dir
):
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "anthropic")
        with anthropic.Anthropic(base_url=server.base_url, api_key="sk-test") as c:
            live = create(c, timeout=20)
            list(create(c, stream=True))
    stored = stored_bytes(store_dir)
    for secret in SECRETS:
        assert secret not in stored
    # one recorded answer for every spelling of the call: the same key, replayed again
    with apirec.recording(store_dir, mode="replay", repeats="last") as rec:
        patch(rec, "anthropic")
        headers = {"User-Agent": "agents/9.9", "X-Stainless-Retry-Count": "2"}
        with anthropic.Anthropic(
            base_url=closed, api_key="sk-other", default_headers=headers, max_retries=5
        ) as c:
            assert create(c, timeout=anthropic.Timeout(2.0)) == live
            assert create(c, extra_headers={"Idempotency-Key": "k", **headers}) == live
