"""integrations.patch(rec, "ollama"): the real ollama SDK against a fake server, then replayed.

Each test records through real ``ollama.Client``/``AsyncClient`` objects talking to the fake
of tests/ollama_server.py, then replays with the fake counting that it served nothing more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import ollama
import pytest

import apirec
from apirec import integrations
from apirec.integrations.ollama import METHODS
from tests.ollama_server import OllamaServer, ToTheFake

ROOT = Path(__file__).resolve().parents[1]
HI = [{"role": "user", "content": "llamas eat grass"}]


@pytest.fixture
def fake():
    server = OllamaServer().start()
    yield server
    server.stop()


@pytest.fixture
async def client(fake):
    """Makes real ollama clients of the fake, closed afterwards."""
    made = []

    def make(is_async=False):
        made.append((ollama.AsyncClient if is_async else ollama.Client)(host=fake.url))
        return made[-1]

    yield make
    for c in made:
        if isinstance(c, ollama.AsyncClient):
            await c.close()
        else:
            c.close()


async def run(result, is_async):
    return await result if is_async else result


async def drain(stream, is_async, stop_after=None):
    parts = []
    if is_async:
        async for part in stream:
            parts.append(part)
            if stop_after is not None and len(parts) == stop_after:
                break
    else:
        for part in stream:
            parts.append(part)
            if stop_after is not None and len(parts) == stop_after:
                break
    return parts


def get_weather(city: str) -> str:
    """Get the weather of a city.

    Args:
      city: the city's name
    """
    return "sunny"


async def plain_calls(c, is_async):
    return [
        await run(c.chat(model="m", messages=HI), is_async),
        await run(c.chat(model="m", messages=HI, tools=[get_weather]), is_async),
        await run(c.generate(model="m", prompt="name a llama"), is_async),
        await run(c.embed(model="e", input=["a", "llama"]), is_async),
        await run(c.embeddings(model="e", prompt="llama"), is_async),
    ]


async def streamed_calls(c, is_async):
    chat = await run(c.chat(model="m", messages=HI, stream=True), is_async)
    generated = await run(c.generate(model="m", prompt="name a llama", stream=True), is_async)
    return [await drain(chat, is_async), await drain(generated, is_async)]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("calls", [plain_calls, streamed_calls], ids=["plain", "streamed"])
async def test_records_then_replays_without_the_server(calls, is_async, fake, store_dir, client):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        live = await calls(client(is_async), is_async)
    served = fake.requests
    assert served == len(live) and rec.stats.recorded == len(live)

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        replayed = await calls(client(is_async), is_async)
    assert fake.requests == served  # the fake received nothing during replay
    assert rec.stats.replayed == len(live)
    assert replayed == live
    flat = [r for item in replayed for r in (item if isinstance(item, list) else [item])]
    assert {type(r).__name__ for r in flat} <= {
        "ChatResponse",
        "GenerateResponse",
        "EmbedResponse",
        "EmbeddingsResponse",
    }
    assert all(type(r).__module__ == "ollama._types" for r in flat)


async def test_sync_and_async_clients_share_recordings(fake, store_dir, client):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        live = client().chat(model="m", messages=HI)
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        replayed = await client(True).chat(model="m", messages=HI)
    assert replayed == live and fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_stream_broken_off_is_stored_whole(is_async, fake, store_dir, client):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        c = client(is_async)
        first = await drain(
            await run(c.chat(model="m", messages=HI, stream=True), is_async), is_async, 1
        )
    assert [p.message.content for p in first] == ["You"]
    (path,) = store_dir.rglob("*.json")
    stored = json.loads(path.read_text())["response"]
    assert stored["is_streaming"] and len(stored["body"]) == 6  # 5 words and the done line

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        c = client(is_async)
        again = await drain(
            await run(c.chat(model="m", messages=HI, stream=True), is_async), is_async, 1
        )
    assert again == first and fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_errors_replay_as_response_errors(is_async, fake, store_dir, client):
    async def failing(c):
        with pytest.raises(ollama.ResponseError) as missing:
            await run(c.chat(model="missing", messages=HI), is_async)
        stream = await run(c.chat(model="breaks-midway", messages=HI, stream=True), is_async)
        with pytest.raises(ollama.ResponseError) as midway:
            await drain(stream, is_async)
        return missing.value, midway.value

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        live = await failing(client(is_async))
    served = fake.requests
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        replayed = await failing(client(is_async))
    assert fake.requests == served == 2
    for was, now in zip(live, replayed, strict=True):
        assert type(now) is type(was) is ollama.ResponseError
        assert (str(now), now.error, now.status_code) == (str(was), was.error, was.status_code)
    assert replayed[0].status_code == 404


async def test_a_stream_error_replays_after_the_chunks_before_it(fake, store_dir, client):
    def chunks_then_error():
        parts = []
        with pytest.raises(ollama.ResponseError, match="runner stopped"):
            for part in client().chat(model="breaks-midway", messages=HI, stream=True):
                parts.append(part)
        return parts

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        live = chunks_then_error()
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        replayed = chunks_then_error()
    assert replayed == live and len(live) == 1 and fake.requests == 1


def test_a_tool_given_as_a_python_function_is_keyed_by_its_schema(fake, store_dir, client):
    def tool(doc):
        def get_weather(city: str) -> str:
            return "sunny"

        get_weather.__doc__ = doc
        return get_weather

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        live = client().chat(model="m", messages=HI, tools=[tool("Weather.")])
    assert live.message.tool_calls[0].function.name == "get_weather"
    (path,) = store_dir.rglob("*.json")
    (stored,) = json.loads(path.read_text())["request"]["args"]["tools"]
    assert stored["python_function"]["doc"] == "Weather."

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        c = client()
        assert c.chat(model="m", messages=HI, tools=[tool("Weather.")]) == live
        with pytest.raises(apirec.RecordingNotFound):
            c.chat(model="m", messages=HI, tools=[tool("The weather of a city.")])
    assert fake.requests == 1


def test_keys_leave_out_keep_alive_and_none_values_and_take_user_options(fake, store_dir, client):
    def drop_model(arguments):
        return {k: v for k, v in arguments.items() if k != "model"}

    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama", ignore=["think"], normalize=drop_model)
        live = client().chat(
            model="m", messages=HI, keep_alive="5m", think=True, options={"temperature": 0.5}
        )
    (path,) = store_dir.rglob("*.json")
    assert sorted(json.loads(path.read_text())["request"]["args"]) == ["messages", "options"]

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama", ignore=["think"], normalize=drop_model)
        replayed = client().chat(
            model="other",
            messages=[ollama.Message(role="user", content="llamas eat grass")],  # None fields
            keep_alive=0,
            options=ollama.Options(temperature=0.5),
        )
    assert replayed == live and fake.requests == 1


def test_an_ignored_name_no_method_has_is_refused(store_dir):
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(TypeError, match="tmeperature"),
    ):
        integrations.patch(rec, "ollama", ignore=["tmeperature"])


def test_patches_end_with_the_recording(store_dir):
    def current():
        methods = [vars(c)[m] for c in (ollama.Client, ollama.AsyncClient) for m in METHODS]
        return [*methods, *(vars(ollama)[m] for m in METHODS)]

    originals = current()
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        assert all(now is not was for now, was in zip(current(), originals, strict=True))
    assert all(now is was for now, was in zip(current(), originals, strict=True))


MODULE_LEVEL = textwrap.dedent(
    """
    import sys, apirec, ollama
    from apirec import integrations

    with apirec.recording(sys.argv[1], mode=sys.argv[2]) as rec:
        integrations.patch(rec, "ollama")
        answer = ollama.chat(model="m", messages=[{"role": "user", "content": "hi llama"}])
        parts = list(ollama.generate(model="m", prompt="a b", stream=True))
        vectors = ollama.embed(model="e", input="llama")
    print(type(answer).__name__, answer.message.content, len(parts), vectors.embeddings[0][0])
    print(rec.stats.recorded, rec.stats.replayed)
    """
)


def test_module_level_functions_record_and_replay(fake, store_dir):
    # A user points ollama's default client at a server with OLLAMA_HOST, before importing it.
    env = {**os.environ, "OLLAMA_HOST": fake.url, "PYTHONPATH": str(ROOT)}

    def run_script(mode):
        done = subprocess.run(
            [sys.executable, "-c", MODULE_LEVEL, str(store_dir), mode],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    recorded = run_script("record")
    assert fake.requests == 3
    assert recorded[1] == "3 0"
    replayed = run_script("replay")
    assert fake.requests == 3  # nothing reached the fake
    assert replayed[0] == recorded[0]
    assert recorded[0].startswith("ChatResponse You said: hi llama 3 ")
    assert replayed[1] == "0 3"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_web_tools_replay_without_an_api_key(is_async, fake, store_dir):
    async def look_up(c):
        found = await run(c.web_search("llamas", max_results=2), is_async)
        page = await run(c.web_fetch(found.results[0].url), is_async)
        return found, page

    def web_client(**headers):
        # the SDK calls https://ollama.com; ToTheFake takes those requests to the fake
        cls = ollama.AsyncClient if is_async else ollama.Client
        return cls(
            host=fake.url, headers=headers, mounts={"https://ollama.com": ToTheFake(fake.url)}
        )

    async def closed(c):
        await run(c.close(), is_async)

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        c = web_client(Authorization="Bearer ok-secret")
        live = await look_up(c)
        await closed(c)
    assert fake.paths == ["/api/web_search", "/api/web_fetch"]
    assert "ok-secret" not in "".join(p.read_text() for p in store_dir.rglob("*.json"))

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        c = web_client()  # no API key in CI
        replayed = await look_up(c)
        await closed(c)
    assert replayed == live and fake.requests == 2
    assert [type(r).__name__ for r in replayed] == ["WebSearchResponse", "WebFetchResponse"]


def test_a_wrapper_is_built_once_per_method_and_options_not_once_per_test(tmp_path):
    original = ollama.Client.__dict__["chat"]
    seen = []
    for ignore in ((), (), ("think",)):
        with apirec.recording(tmp_path, mode="replay") as rec:
            integrations.patch(rec, "ollama", ignore=ignore)
            seen.append(ollama.Client.__dict__["chat"])
        assert ollama.Client.__dict__["chat"] is original
    assert seen[0] is seen[1]  # the next test reuses it
    assert seen[2] is not seen[0]  # other options: another key, another wrapper
    assert "think" in seen[2].__apirec_spec__._ignored_params
