"""integrations.patch(rec, "httpx"): any SDK built on httpx, with no integration of its own.

A small client built on httpx (tests/httpx_server.py) records against its fake API, then
replays with the fake counting that it served nothing more; the SDK's own parsing (JSON,
server-sent events, ``raise_for_status``) runs on the replayed responses.
"""

from __future__ import annotations

import httpx
import pytest

import apirec
from apirec import integrations
from tests.httpx_server import AsyncWeather, Weather, WeatherServer
from tests.integration_helpers import stored_bytes


@pytest.fixture
def fake():
    server = WeatherServer().start()
    yield server
    server.stop()


@pytest.fixture
async def weather():
    made = []

    def make(url, is_async=False, **options):
        made.append((AsyncWeather if is_async else Weather)(url, **options))
        return made[-1]

    yield make
    for client in made:
        if isinstance(client, AsyncWeather):
            await client.close()
        else:
            client.close()


async def calls(client, is_async):
    if is_async:
        return [
            await client.forecast("Paris"),
            await client.forecast("Lima", days=3),
            [day async for day in client.stream("Oslo")],
        ]
    return [client.forecast("Paris"), client.forecast("Lima", days=3), list(client.stream("Oslo"))]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_records_then_replays_through_the_sdks_own_parsing(
    is_async, fake, store_dir, weather
):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "httpx")
        live = await calls(weather(fake.url, is_async), is_async)
    served = fake.requests
    assert served == 3 == rec.stats.recorded
    assert live[2] == [
        {"day": 0, "city": "Oslo", "sky": "cloudy"},
        {"day": 1, "city": "Oslo", "sky": "rainy"},
    ]

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "httpx")
        replayed = await calls(weather(fake.url, is_async, api_key="another-key"), is_async)
    assert replayed == live
    assert fake.requests == served and rec.stats.replayed == 3
    stored = stored_bytes(store_dir)
    assert b"cookie-secret" not in stored and b"sk-weather-key" not in stored


async def test_sync_and_async_clients_share_recordings(fake, store_dir, weather):
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "httpx")
        live = list(weather(fake.url).stream("Oslo"))
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "httpx")
        replayed = [day async for day in weather(fake.url, True).stream("Oslo")]
    assert replayed == live and fake.requests == 1


def test_the_key_is_method_url_and_canonical_body(fake, store_dir, weather):
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "httpx")
        weather(fake.url).forecast("Paris")
    client = weather(fake.url)
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "httpx")
        # the same JSON written otherwise (key order, spacing): the same request
        sent = client.http.post(
            "/forecast",
            content=b'{ "days": 2,  "city": "Paris" }',
            headers={"content-type": "application/json", "x-trace": "anything"},
        )
        assert sent.json()["days"][0]["city"] == "Paris"
        with pytest.raises(apirec.RecordingNotFound, match="Lyon"):
            client.forecast("Lyon")
        with pytest.raises(apirec.RecordingNotFound):
            client.http.post(fake.url + "/forecast?units=metric", json={"city": "Paris", "days": 2})
    assert fake.requests == 1


def test_ignore_and_normalize_take_the_request_parts(fake, store_dir, weather):
    client = weather(fake.url)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "httpx", ignore=["body.trace"])
        client.http.post("/forecast", json={"city": "Paris", "days": 1, "trace": "t-1"})
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "httpx", ignore=["body.trace"])
        sent = client.http.post("/forecast", json={"city": "Paris", "days": 1, "trace": "t-2"})
        assert sent.json()["days"][0]["city"] == "Paris"
        assert sent.elapsed.total_seconds() == 0
        with pytest.raises(TypeError, match="bodie"):
            integrations.patch(rec, "httpx", ignore=["bodie.trace"])
    assert fake.requests == 1


def test_an_error_status_replays_for_the_sdk_to_raise(fake, store_dir, weather):
    for mode in ("record", "replay"):
        with apirec.recording(store_dir, mode=mode) as rec:
            integrations.patch(rec, "httpx")
            with pytest.raises(httpx.HTTPStatusError) as info:
                weather(fake.url).forecast("Atlantis")
        assert info.value.response.status_code == 404
        assert info.value.response.json() == {"error": "no such city"}
        # never stored; while recording, the caller's response is built from what is stored
        assert info.value.response.headers["set-cookie"] == "<redacted>"
    assert fake.requests == 1


def test_a_transient_status_is_not_stored_and_the_retry_is(fake, store_dir, weather):
    client = weather(fake.url)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "httpx")
        first = client.http.get("/busy")
        second = client.http.get("/busy")  # the application's retry
    assert (first.status_code, second.status_code) == (429, 200)
    assert rec.stats.recorded == 1 and rec.stats.errors_not_stored == 1
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "httpx")
        assert client.http.get("/busy").json() == {"ok": True}


def test_a_multipart_upload_is_keyed_without_its_random_boundary(fake, store_dir, weather):
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "httpx")
        live = weather(fake.url).upload("notes.txt", b"hello")
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "httpx")
        assert (
            weather(fake.url).upload("notes.txt", b"hello")
            == live
            == {"name": "notes.txt", "size": 5}
        )
    assert fake.requests == 1


def test_unknown_names_point_to_httpx_and_rec_patch(store_dir):
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(integrations.UnknownIntegration) as info,
    ):
        integrations.patch(rec, "pytest")  # installed, no integration
    message = str(info.value)
    assert 'integrations.patch(rec, "httpx")' in message and "rec.patch" in message


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_real_sdk_through_httpx_alone(is_async, store_dir):
    """The real ollama SDK (NDJSON streams, its own response classes) recorded and replayed
    through the generic patch only, as an SDK without an integration would be."""
    import ollama

    from tests.ollama_server import OllamaServer

    server = OllamaServer().start()
    hi = [{"role": "user", "content": "llamas eat grass"}]

    async def run(client):
        async def settle(value):
            return await value if is_async else value

        reply = await settle(client.chat(model="m", messages=hi))
        parts = await settle(client.chat(model="m", messages=hi, stream=True))
        if is_async:
            words = [p.message.content async for p in parts]
        else:
            words = [p.message.content for p in parts]
        return reply, words

    try:
        for mode in ("record", "replay"):
            client = (ollama.AsyncClient if is_async else ollama.Client)(host=server.url)
            async with apirec.recording(store_dir, mode=mode) as rec:
                integrations.patch(rec, "httpx")
                reply, words = await run(client)
            await client.close() if is_async else client.close()
            assert type(reply).__name__ == "ChatResponse"
            assert reply.message.content == "You said: llamas eat grass"
            assert "".join(words) == "You said: llamas eat grass"
            assert rec.stats.recorded + rec.stats.replayed == 2
        assert server.requests == 2  # the replay reached nothing
    finally:
        server.stop()
