"""integrations.patch(rec, "tavily"): the real tavily-python SDK against a fake Tavily API.

Each test records through real ``TavilyClient``/``AsyncTavilyClient`` objects talking to
tests/tavily_server.py (``api_base_url=``), then replays with the fake counting that it
served nothing more.
"""

from __future__ import annotations

import json
import warnings

import pytest
import tavily
import tavily.errors

import apirec
from apirec import integrations
from apirec.integrations.tavily import METHODS
from tests.tavily_server import TavilyServer


@pytest.fixture
def fake():
    server = TavilyServer().start()
    yield server
    server.stop()


@pytest.fixture
async def client(fake):
    """Makes real tavily clients of the fake, closed afterwards."""
    made = []

    def make(is_async=False, api_key="tvly-test"):
        cls = tavily.AsyncTavilyClient if is_async else tavily.TavilyClient
        made.append(cls(api_key=api_key, api_base_url=fake.url))
        return made[-1]

    yield make
    for c in made:
        if isinstance(c, tavily.AsyncTavilyClient):
            await c.close()
        else:
            c.close()


async def run(result, is_async):
    return await result if is_async else result


async def calls(c, is_async):
    results = [
        await run(c.search("llamas", max_results=3, include_answer=True), is_async),
        await run(c.extract(["https://example.org/a", "https://example.org/b"]), is_async),
        await run(c.crawl("https://example.org", limit=2), is_async),
        await run(c.map("https://example.org", limit=3), is_async),
    ]
    with warnings.catch_warnings():  # deprecated (sync client), still used
        warnings.simplefilter("ignore", DeprecationWarning)
        results.append(await run(c.qna_search("alpacas"), is_async))  # not through search()
    return results


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_records_then_replays_without_the_server(is_async, fake, store_dir, client):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "tavily")
        live = await calls(client(is_async), is_async)
    assert fake.requests == rec.stats.recorded == 5
    assert fake.paths == ["/search", "/extract", "/crawl", "/map", "/search"]

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily")
        replayed = await calls(client(is_async, api_key="tvly-other"), is_async)
    assert fake.requests == 5  # the fake received nothing during replay
    assert rec.stats.replayed == 5
    assert replayed == live
    assert replayed[0]["answer"] == "llamas: yes" and len(replayed[0]["results"]) == 3
    assert replayed[4] == "alpacas: yes"


async def test_sync_and_async_clients_share_recordings(fake, store_dir, client):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "tavily")
        live = client().search("llamas")
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily")
        replayed = await client(True).search("llamas")
    assert replayed == live and fake.requests == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_errors_replay_as_the_sdk_errors(is_async, fake, store_dir, client):
    async def failing(c):
        with pytest.raises(tavily.BadRequestError) as bad:
            await run(c.search("bad"), is_async)
        with pytest.raises(tavily.errors.ForbiddenError) as forbidden:
            await run(c.search("forbidden"), is_async)
        return bad.value, forbidden.value

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "tavily")
        live = await failing(client(is_async))
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily")
        replayed = await failing(client(is_async))
    assert fake.requests == 2
    for was, now in zip(live, replayed, strict=True):
        assert type(now) is type(was) and str(now) == str(was) and now.args == was.args
    assert str(replayed[0]) == "bad query"


def test_keys_leave_out_timeouts_and_tracking_and_redact_the_project(fake, store_dir, client):
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "tavily", ignore=["max_results"])
        live = client().search(
            "llamas", timeout=10, session_id="s-1", project_id="proj-secret", max_results=2
        )
    (path,) = store_dir.rglob("*.json")
    args = json.loads(path.read_text())["request"]["args"]
    assert args == {"query": "llamas", "project_id": "<redacted>"}

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily", ignore=["max_results"])
        replayed = client().search(
            "llamas", timeout=99, session_id="s-2", project_id="proj-other", max_results=5
        )
    assert replayed == live and fake.requests == 1


def test_patches_end_with_the_recording(store_dir):
    def current():
        return [
            vars(c)[m] for c in (tavily.TavilyClient, tavily.AsyncTavilyClient) for m in METHODS
        ]

    originals = current()
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily")
        assert all(now is not was for now, was in zip(current(), originals, strict=True))
    assert all(now is was for now, was in zip(current(), originals, strict=True))


async def research_calls(c, is_async):
    task = await run(c.research("what are llamas?"), is_async)
    polls = [await run(c.get_research(task["request_id"]), is_async) for _ in range(2)]
    stream = await run(c.research("what are llamas?", stream=True), is_async)
    events = [chunk async for chunk in stream] if is_async else list(stream)
    return task, polls, b"".join(events)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_research_its_polls_and_its_stream_replay(is_async, fake, store_dir, client):
    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "tavily")
        live = await research_calls(client(is_async), is_async)
    assert [p["status"] for p in live[1]] == ["pending", "completed"]
    assert live[2].count(b"data: ") == 3
    served = fake.requests

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily")
        replayed = await research_calls(client(is_async), is_async)
    assert replayed == live and fake.requests == served == 4


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_research_stream_broken_off_is_stored_whole(is_async, fake, store_dir, client):
    async def first_event(c):
        stream = await run(c.research("what are llamas?", stream=True), is_async)
        if is_async:
            async for chunk in stream:
                await stream.aclose()
                return chunk
        for chunk in stream:
            stream.close()
            return chunk

    async with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "tavily")
        live = await first_event(client(is_async))
    (path,) = store_dir.rglob("*.json")
    assert len(json.loads(path.read_text())["response"]["body"]) == 3  # the rest was read

    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "tavily")
        assert await first_event(client(is_async)) == live
    assert fake.requests == 1
