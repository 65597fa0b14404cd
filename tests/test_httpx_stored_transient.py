"""store_errors="all" through the httpx fallback (``"httpx"``, and ``"httpx2"`` that openai
is built on): a stored 429 replays as the recorded HTTP response (status, headers, body), so
the SDK's own handling (its retries, its exception) runs on replay as it ran live, with the
fake API stopped."""

from __future__ import annotations

import openai
import pytest

import apirec
from apirec import integrations
from tests.httpx_server import Weather, WeatherServer
from tests.openai_server import OpenAIServer

HELLO = [{"role": "user", "content": "are you there"}]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_stored_429s_replay_for_the_sdks_retries(is_async, store_dir):
    server = OpenAIServer().start()
    try:
        replies = []
        for mode in ("record", "replay"):
            if mode == "replay":
                server.stop()  # the replay reaches nothing
            kind = openai.AsyncOpenAI if is_async else openai.OpenAI
            client = kind(base_url=server.base_url, api_key="sk-test", max_retries=2)
            async with apirec.recording(store_dir, mode=mode, store_errors="all") as rec:
                integrations.patch(rec, "httpx2")  # this openai is built on httpx2
                reply = client.chat.completions.create(model="busy-twice", messages=HELLO)
                replies.append((await reply) if is_async else reply)
            await client.close() if is_async else client.close()
            assert rec.stats.recorded + rec.stats.replayed == 3  # 429, 429, the answer
        assert replies[0].choices[0].message.content == replies[1].choices[0].message.content
        assert replies[1].choices[0].message.content == "You said: are you there"
        assert server.requests == 3
    finally:
        server.stop()


def test_a_stored_429_replays_as_the_sdks_own_error(store_dir):
    server = OpenAIServer().start()
    try:
        errors = []
        for mode in ("record", "replay"):
            if mode == "replay":
                server.stop()
            client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
            with apirec.recording(store_dir, mode=mode, store_errors="all") as rec:
                integrations.patch(rec, "httpx2")  # this openai is built on httpx2
                with pytest.raises(openai.RateLimitError) as info:
                    client.chat.completions.create(model="busy-twice", messages=HELLO)
            client.close()
            errors.append(info.value)
        live, replayed = errors
        assert replayed.status_code == live.status_code == 429
        assert replayed.body == live.body
        assert replayed.response.headers["retry-after"] == "0"
        assert server.requests == 1
    finally:
        server.stop()


def test_a_stored_429_replays_on_a_plain_httpx_client(store_dir):
    server = WeatherServer().start()
    try:
        answers = []
        for mode in ("record", "replay"):
            if mode == "replay":
                server.stop()
            client = Weather(server.url)
            with apirec.recording(store_dir, mode=mode, store_errors="all") as rec:
                integrations.patch(rec, "httpx")
                first = client.http.get("/busy")
                answers.append((first.status_code, first.json(), client.http.get("/busy").json()))
            client.close()
        assert answers[1] == answers[0] == (429, {"error": "slow down"}, {"ok": True})
        assert server.requests == 2
    finally:
        server.stop()
