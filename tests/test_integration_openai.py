"""integrations.patch(rec, "openai"): every entry point of the real openai SDK, sync and async,
recorded against tests/openai_server.py, then replayed with nothing listening."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from pydantic import BaseModel

import apirec
from apirec.integrations import patch
from tests.integration_helpers import SECRETS, record_then_replay, stored_bytes

MESSAGES = [{"role": "user", "content": "name a llama"}]
LONG = [{"role": "user", "content": "one two three four five six"}]
sync_and_async = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


class Answer(BaseModel):
    answer: str


async def read(stream, *, is_async: bool) -> list:
    if is_async:
        return [chunk async for chunk in stream]
    return list(stream)


async def maybe(value, *, is_async: bool):
    return await value if is_async else value


@sync_and_async
async def test_a_plain_call_replays_the_same_object_with_its_request_id(
    is_async, openai_server, closed_url, store_dir, make_client
):
    async def run(url):
        c = make_client(url, is_async=is_async)
        return await maybe(
            c.chat.completions.create(model="m", messages=MESSAGES), **is_a(is_async)
        )

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert type(replayed) is openai.types.chat.ChatCompletion
    assert replayed == live
    assert replayed._request_id == live._request_id == "req_1"


def is_a(is_async: bool) -> dict:
    return {"is_async": is_async}


@sync_and_async
async def test_a_stream_replays_as_the_sdk_stream_with_its_response(
    is_async, openai_server, closed_url, store_dir, make_client
):
    async def run(url):
        c = make_client(url, is_async=is_async)
        stream = await maybe(
            c.chat.completions.create(model="m", messages=MESSAGES, stream=True), **is_a(is_async)
        )
        kind = openai.AsyncStream if is_async else openai.Stream
        assert isinstance(stream, kind)
        response = stream.response
        return await read(stream, **is_a(is_async)), response.status_code, response.headers

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert replayed[0] == live[0]
    assert len(replayed[0]) == 7
    assert replayed[1] == 200
    assert replayed[2]["x-request-id"] == live[2]["x-request-id"] == "req_1"
    assert replayed[2]["set-cookie"] == "<redacted>"


@sync_and_async
async def test_a_stream_broken_off_is_stored_whole(
    is_async, openai_server, closed_url, store_dir, make_client
):
    async def broken_off(url):
        c = make_client(url, is_async=is_async)
        stream = await maybe(
            c.chat.completions.create(model="m", messages=LONG, stream=True), **is_a(is_async)
        )
        first = await anext(stream) if is_async else next(stream)
        await maybe(stream.close(), **is_a(is_async))
        return first

    async def whole(url):
        c = make_client(url, is_async=is_async)
        stream = await maybe(
            c.chat.completions.create(model="m", messages=LONG, stream=True), **is_a(is_async)
        )
        return await read(stream, **is_a(is_async))

    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        await broken_off(openai_server.base_url)
    (path,) = store_dir.glob("*.json")
    stored = json.loads(path.read_text())["response"]
    assert "truncated" not in stored
    assert len(stored["body"]) == 1 + 10  # the head, then every chunk
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        chunks = await whole(closed_url)
    words = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert "".join(words) == "You said: one two three four five six"


HELPERS = {
    "chat": lambda c: c.chat.completions.stream(model="m", messages=MESSAGES),
    "responses": lambda c: c.responses.stream(model="m", input="name a llama"),
}


@sync_and_async
@pytest.mark.parametrize("helper", sorted(HELPERS))
async def test_the_stream_helpers_replay(
    helper, is_async, openai_server, closed_url, store_dir, make_client
):
    async def run(url):
        manager = HELPERS[helper](make_client(url, is_async=is_async))
        if is_async:
            async with manager as stream:
                events = [event.type async for event in stream]
                final = await (
                    stream.get_final_completion()
                    if helper == "chat"
                    else stream.get_final_response()
                )
        else:
            with manager as stream:
                events = [event.type for event in stream]
                final = (
                    stream.get_final_completion()
                    if helper == "chat"
                    else stream.get_final_response()
                )
        return events, final

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert replayed == live
    text = replayed[1].choices[0].message.content if helper == "chat" else replayed[1].output_text
    assert text == "You said: name a llama"


CREATES = {
    "chat": lambda c: c.chat.completions.create(model="m", messages=MESSAGES, stream=True),
    "responses": lambda c: c.responses.create(model="m", input="name a llama", stream=True),
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
async def test_the_stream_helpers_are_recorded_as_the_create_they_call(
    helper, openai_server, closed_url, store_dir, make_client
):
    """openai's ``.stream()`` helpers call ``create(stream=True)`` when entered: recorded as
    that call (docs/integrations.md, "Names and keys"), and replayed to it."""
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        with HELPERS[helper](make_client(openai_server.base_url, is_async=False)) as stream:
            live = [event.type for event in stream]
    (path,) = store_dir.glob("*.json")
    assert (
        json.loads(path.read_text())["request"]["function"]
        == f"openai.{'chat.completions' if helper == 'chat' else 'responses'}.create"
    )
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        chunks = await read(await CREATES[helper](make_client(closed_url)), is_async=True)
    assert len(chunks) > 1 and live


PARSE = {
    "chat": (
        lambda c: c.chat.completions.parse(model="m", messages=MESSAGES, response_format=Answer),
        lambda r: r.choices[0].message.parsed,
    ),
    "responses": (
        lambda c: c.responses.parse(model="m", input="name a llama", text_format=Answer),
        lambda r: r.output_parsed,
    ),
}


@sync_and_async
@pytest.mark.parametrize("api", sorted(PARSE))
async def test_parse_replays_the_parsed_object(
    api, is_async, openai_server, closed_url, store_dir, make_client
):
    call, parsed = PARSE[api]

    async def run(url):
        return await maybe(call(make_client(url, is_async=is_async)), **is_a(is_async))

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert parsed(replayed) == parsed(live) == Answer(answer="name a llama")
    assert type(parsed(replayed)) is Answer
    # the very class the SDK built (ParsedChatCompletion[~ResponseFormatT], a generic class)
    assert type(replayed) is type(live)
    if api == "chat":
        assert type(replayed.choices[0]) is type(live.choices[0])
        assert type(replayed.choices[0].message) is type(live.choices[0].message)


@sync_and_async
@pytest.mark.parametrize("api", sorted(PARSE))
async def test_parse_with_a_model_defined_in_the_test_replays_that_model(
    api, is_async, openai_server, closed_url, store_dir, make_client
):
    class Local(BaseModel):  # not importable: `...<locals>.Local`
        answer: str

    def call(c):
        if api == "chat":
            return c.chat.completions.parse(model="m", messages=MESSAGES, response_format=Local)
        return c.responses.parse(model="m", input="name a llama", text_format=Local)

    async def run(url):
        return await maybe(call(make_client(url, is_async=is_async)), **is_a(is_async))

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    parsed = PARSE[api][1]
    assert type(parsed(replayed)) is Local and parsed(replayed) == parsed(live)
    assert type(replayed) is type(live)


@sync_and_async
async def test_raw_responses_give_back_status_headers_and_parse(
    is_async, openai_server, closed_url, store_dir, make_client
):
    async def run(url):
        c = make_client(url, is_async=is_async)
        create = c.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
        raw = await maybe(create, **is_a(is_async))
        parsed = raw.parse()  # the legacy raw response parses synchronously on both clients
        streaming = c.chat.completions.with_streaming_response.create
        if is_async:
            async with streaming(model="m", messages=MESSAGES, stream=True) as response:
                chunks = [chunk async for chunk in await response.parse()]
                status = response.status_code
        else:
            with streaming(model="m", messages=MESSAGES, stream=True) as response:
                chunks = list(response.parse())
                status = response.status_code
        return raw.status_code, raw.headers["x-request-id"], parsed, status, chunks

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert replayed[:2] == (200, "req_1")
    assert replayed[2] == live[2]
    assert type(replayed[2]) is openai.types.chat.ChatCompletion
    assert replayed[3] == 200
    assert replayed[4] == live[4]
    assert len(replayed[4]) == 7


@sync_and_async
async def test_binary_bodies_replay_their_bytes(
    is_async, openai_server, closed_url, store_dir, make_client, tmp_path
):
    async def run(url):
        c = make_client(url, is_async=is_async)
        speech = c.audio.speech.create(model="tts", voice="alloy", input="a llama hums")
        audio = await maybe(speech, **is_a(is_async))
        target = tmp_path / f"speech-{url.rsplit(':', 1)[-1].split('/')[0]}.mp3"
        if is_async:
            read_back = await audio.aread()
            pieces = [piece async for piece in await audio.aiter_bytes()]
        else:
            read_back = audio.read()
            pieces = list(audio.iter_bytes())
        audio.write_to_file(target)
        return audio.content, read_back, b"".join(pieces), target.read_bytes()

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert replayed == live
    assert set(replayed) == {b"ID3a llama hums"}


@sync_and_async
async def test_errors_replay_as_the_sdk_classes(
    is_async, openai_server, closed_url, store_dir, make_client
):
    async def run(url):
        c = make_client(url, is_async=is_async)
        with pytest.raises(openai.BadRequestError) as error:
            await maybe(
                c.chat.completions.create(model="bad-model", messages=MESSAGES), **is_a(is_async)
            )
        return error.value

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    assert replayed.status_code == replayed.response.status_code == 400
    assert replayed.request_id == live.request_id == "req_1"
    assert replayed.response.headers["x-request-id"] == "req_1"
    assert replayed.body == live.body
    assert str(replayed) == str(live)


async def test_keys_leave_out_timeouts_client_versions_and_idempotency_keys(
    openai_server, closed_url, store_dir
):
    def create(client, **options):
        return client.chat.completions.create(model="m", messages=MESSAGES, **options)

    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        with openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test") as c:
            live = create(c, timeout=10)
    # one recorded answer for every spelling of the call: the same key, replayed again
    with apirec.recording(store_dir, mode="replay", repeats="last") as rec:
        patch(rec, "openai")
        headers = {"User-Agent": "agents/9.9", "X-Stainless-Package-Version": "99"}
        with openai.OpenAI(
            base_url=closed_url, api_key="sk-other", max_retries=7, default_headers=headers
        ) as c:
            replayed = [
                create(c),
                create(c, timeout=httpx2.Timeout(3.0, connect=1.0)),
                create(c, extra_headers={**headers, "Idempotency-Key": "key-2"}),
                create(c.with_options(timeout=1, max_retries=0)),
            ]
    assert replayed == [live] * 4
    assert rec.stats.missed == 0


async def test_ignore_and_normalize_add_to_the_defaults(openai_server, closed_url, store_dir):
    def ask(url, user, metadata):
        with openai.OpenAI(base_url=url, api_key="sk-test") as c:
            return c.chat.completions.create(
                model="m", messages=MESSAGES, user=user, metadata=metadata, timeout=5
            )

    def drop_metadata(arguments):
        return {k: v for k, v in arguments.items() if k != "metadata"}

    options = {"ignore": ["user"], "normalize": drop_metadata}
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai", **options)
        live = ask(openai_server.base_url, "ann", {"run": "1"})
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai", **options)
        assert ask(closed_url, "bob", {"run": "2"}) == live
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        with pytest.raises(apirec.RecordingNotFound):
            ask(closed_url, "bob", {"run": "2"})


async def test_private_headers_and_credentials_stay_out_of_the_files(
    openai_server, store_dir, make_client
):
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        c = make_client(openai_server.base_url, is_async=False)
        c.chat.completions.create(model="m", messages=MESSAGES)
        list(c.chat.completions.create(model="m", messages=MESSAGES, stream=True))
        c.chat.completions.with_raw_response.create(
            model="m", messages=MESSAGES, extra_headers={"Authorization": "Bearer sk-test-2"}
        )
        c.audio.speech.create(model="tts", voice="alloy", input="hum")
    stored = stored_bytes(store_dir)
    assert b"<redacted>" in stored
    for secret in SECRETS:
        assert secret not in stored


@sync_and_async
async def test_recordings_of_the_earlier_per_method_patch_still_replay(
    is_async, openai_server, closed_url, store_dir, make_client
):
    # what patch_openai did before: the resource method patched, named as users write it
    cls = "AsyncCompletions" if is_async else "Completions"
    target = f"openai.resources.chat.completions.completions.{cls}.create"

    async def run(url):
        c = make_client(url, is_async=is_async)
        plain = await maybe(
            c.chat.completions.create(model="m", messages=MESSAGES), **is_a(is_async)
        )
        stream = c.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        return plain, await read(await maybe(stream, **is_a(is_async)), **is_a(is_async))

    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch(target, name="openai.chat.completions.create")
        live = await run(openai_server.base_url)
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        replayed = await run(closed_url)
    assert replayed == live
    assert rec.stats.replayed == 2


async def test_a_replayed_call_skips_the_sdk_request_machinery(
    openai_server, closed_url, store_dir, make_client, monkeypatch
):
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        c = make_client(openai_server.base_url, is_async=False)
        live = [c.chat.completions.create(model="m", messages=MESSAGES) for _ in range(2)]

    def never(*args, **kwargs):
        raise AssertionError("replay went through the SDK's request machinery")

    # neither building the request body nor the HTTP request: the stored object directly
    monkeypatch.setattr(openai._base_client.SyncAPIClient, "post", never)
    monkeypatch.setattr(openai._base_client.SyncAPIClient, "_build_request", never)
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        c = make_client(closed_url, is_async=False)
        replayed = [c.chat.completions.create(model="m", messages=MESSAGES) for _ in range(2)]
    assert replayed == live


@sync_and_async
async def test_a_stream_helper_left_early_is_stored_whole(
    is_async, openai_server, store_dir, make_client, tmp_path
):
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        c = make_client(openai_server.base_url, is_async=is_async)
        manager = c.chat.completions.stream(model="m", messages=LONG)
        if is_async:
            async with manager as stream:
                async for _ in stream:
                    break
        else:
            with manager as stream:
                for _ in stream:
                    break
        speech = c.audio.speech.with_streaming_response.create(
            model="tts", voice="alloy", input="hum"
        )
        target = tmp_path / "speech.mp3"
        if is_async:
            async with speech as response:
                await response.stream_to_file(target)
        else:
            with speech as response:
                response.stream_to_file(target)
    assert target.read_bytes() == b"ID3hum"
    stored = {
        json.loads(p.read_text())["request"]["function"]: json.loads(p.read_text())["response"]
        for p in store_dir.glob("*.json")
    }
    chat = stored["openai.chat.completions.create"]
    assert "truncated" not in chat
    assert len(chat["body"]) == 1 + 10
    assert set(stored) == {"openai.chat.completions.create", "openai.audio.speech.create"}


async def test_patch_openai_takes_the_same_options(openai_server, closed_url, store_dir):
    from apirec.integrations.openai import patch_openai

    def ask(url, user):
        with openai.OpenAI(base_url=url, api_key="sk-test") as c:
            return c.chat.completions.create(model="m", messages=MESSAGES, user=user)

    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec, ignore=["user"])
        live = ask(openai_server.base_url, "ann")
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec, ignore=["user"])
        assert ask(closed_url, "bob") == live
        with pytest.raises(ValueError, match="do not apply to keys='llama-stack'"):
            patch_openai(rec, keys="llama-stack", ignore=["user"])


@sync_and_async
async def test_a_replayed_streams_response_is_built_when_first_read(
    is_async, openai_server, closed_url, store_dir, make_client, monkeypatch
):
    """A test that only reads a replayed stream's chunks pays nothing for its ``.response``;
    read, it is built once, with the recorded status, headers, method and URL."""
    from apirec.integrations import stainless_replies

    built: list[tuple] = []
    fake_response = stainless_replies.fake_response

    def counted(*args, **kwargs):
        built.append(args)
        return fake_response(*args, **kwargs)

    monkeypatch.setattr(stainless_replies, "fake_response", counted)

    async def run(url):
        c = make_client(url, is_async=is_async)
        before = len(built)
        stream = await maybe(
            c.chat.completions.create(model="m", messages=MESSAGES, stream=True), **is_a(is_async)
        )
        chunks = await read(stream, **is_a(is_async))
        return stream, chunks, len(built) - before

    live, replayed = await record_then_replay(store_dir, openai_server, closed_url, run, "openai")
    stream, chunks, built_while_read = replayed
    assert chunks == live[1] and built_while_read == 0
    response = stream.response
    assert len(built) == 1 and stream.response is response  # built once, then kept
    recorded = live[0].response
    assert response.status_code == recorded.status_code == 200
    assert response.headers["x-request-id"] == recorded.headers["x-request-id"] == "req_1"
    assert response.headers["content-type"] == recorded.headers["content-type"]
    assert response.request.method == "POST"
    assert response.request.url == recorded.request.url.copy_with(query=None)
