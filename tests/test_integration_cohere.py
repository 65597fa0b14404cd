"""integrations.patch(rec, "cohere"): the real cohere SDK against a fake, then replayed.

Each test records through real ``cohere.ClientV2`` / ``AsyncClientV2`` objects talking to the
fake of tests/cohere_server.py, then replays with the fake counting that it served nothing more.
"""

from __future__ import annotations

import cohere
import pytest

import apirec
from apirec import integrations
from apirec.errors import TransientErrorWarning
from tests.cohere_server import CohereServer
from tests.integration_helpers import stored_bytes

HI = [{"role": "user", "content": "llamas eat grass"}]


@pytest.fixture
def fake():
    server = CohereServer().start()
    yield server
    server.stop()


@pytest.fixture
async def client():
    """Makes real cohere v2 clients, their HTTP clients closed afterwards."""
    made = []

    def make(url, is_async=False, **options):
        cls = cohere.AsyncClientV2 if is_async else cohere.ClientV2
        made.append(cls(base_url=url, **options))
        return made[-1]

    yield make
    for c in made:
        http = c._client_wrapper.httpx_client.httpx_client
        if isinstance(c, cohere.AsyncClientV2):
            await http.aclose()
        else:
            http.close()


async def run(result, is_async):
    return await result if is_async else result


async def drain(stream, is_async):
    if is_async:
        return [event async for event in stream]
    return list(stream)


async def calls(c, is_async):
    return [
        await run(c.chat(model="m", messages=HI), is_async),
        await drain(c.chat_stream(model="m", messages=HI), is_async),
        await run(
            c.embed(
                model="e",
                texts=["a", "bb"],
                input_type="search_document",
                embedding_types=["float"],
            ),
            is_async,
        ),
        await run(
            c.rerank(model="r", query="llama grass", documents=["llama", "grass llama", "x"]),
            is_async,
        ),
    ]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_records_then_replays_without_the_server(
    is_async, fake, store_dir, client, monkeypatch
):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "cohere")
        live = await calls(client(fake.url, is_async, api_key="sk-test"), is_async)
    served = fake.requests
    assert served == len(live) == rec.stats.recorded

    monkeypatch.delenv("CO_API_KEY", raising=False)
    monkeypatch.delenv("COHERE_API_KEY", raising=False)
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "cohere")
        replayed = await calls(client("http://127.0.0.1:9", is_async), is_async)  # no key
    assert fake.requests == served and rec.stats.replayed == len(live)
    assert replayed == live
    assert type(replayed[0]).__name__ == "V2ChatResponse"
    assert replayed[0].message.content[0].text == "You said: llamas eat grass"
    deltas = [e.delta.message.content.text for e in replayed[1] if e.type == "content-delta"]
    assert "".join(deltas) == "You said: llamas eat grass"
    assert [r.index for r in replayed[3].results] == [1, 0, 2]
    assert b"sk-test" not in stored_bytes(store_dir)


async def test_sync_and_async_share_recordings(fake, store_dir, client):
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "cohere")
        live = list(client(fake.url, api_key="sk-test").chat_stream(model="m", messages=HI))
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "cohere")
        stream = client(fake.url, True, api_key="sk-test").chat_stream(model="m", messages=HI)
        replayed = [event async for event in stream]
    assert replayed == live and fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("model", "error_class", "streamed"),
    [
        ("missing", cohere.NotFoundError, False),
        ("bad", cohere.BadRequestError, False),
        ("bad", cohere.BadRequestError, True),
    ],
)
async def test_errors_replay_as_the_sdks_own(
    model, error_class, streamed, is_async, fake, store_dir, client
):
    async def fail(url):
        c = client(url, is_async, api_key="sk-test")
        with pytest.raises(error_class) as info:
            if streamed:
                await drain(c.chat_stream(model=model, messages=HI), is_async)
            else:
                await run(c.chat(model=model, messages=HI), is_async)
        return info.value

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "cohere")
        live = await fail(fake.url)
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "cohere")
        replayed = await fail("http://127.0.0.1:9")
    assert fake.requests == 1
    assert (replayed.status_code, replayed.body, replayed.headers) == (
        live.status_code,
        live.body,
        live.headers,
    )
    assert replayed.headers["set-cookie"] == "<redacted>"
    assert b"cookie-secret" not in stored_bytes(store_dir)


def test_a_transient_error_is_not_stored(fake, store_dir, client):
    with (
        pytest.warns(TransientErrorWarning, match="TooManyRequestsError"),
        apirec.recording(store_dir, mode="record") as rec,
    ):
        integrations.patch(rec, "cohere")
        with pytest.raises(cohere.TooManyRequestsError):
            client(fake.url, api_key="sk-test").chat(model="busy", messages=HI)
    assert not list(store_dir.rglob("*.json"))


def test_v1_clients_are_patched_too(store_dir):
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "cohere")
        assert hasattr(cohere.Client.embed, "__apirec_spec__")
        assert cohere.Client.embed.__apirec_spec__.name == "cohere.embed"
        assert cohere.ClientV2.embed.__apirec_spec__.name == "cohere.v2.embed"
    assert not hasattr(cohere.Client.embed, "__apirec_spec__")
