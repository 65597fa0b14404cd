"""Issue 20 (new user): a replayed openai error's ``.response`` is the recorded one.

It was made up: the client's base URL, no headers but the request id, so code that reads
``e.response.headers["retry-after"]`` (openai's own retry logic does) or the request's URL
behaved otherwise on replay. Recorded live against tests/openai_server.py with the real openai
client, then replayed with the server stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

import apirec
from apirec.integrations import patch

MESSAGES = [{"role": "user", "content": "name a llama"}]
# a 429 is transient: kept only when asked (store_errors="all"), as a test of retries does
# an Azure-like API version, and a token a careless caller put in the query
QUERY = {"api-version": "2024-06-01", "api_key": "qsecret-7788"}


def _call(client, model: str) -> BaseException:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=model, messages=MESSAGES, extra_query=QUERY)
    return caught.value


def _seen(error) -> dict:
    response = error.response
    return {
        "type": type(error),
        "status": response.status_code,
        "retry-after": response.headers.get("retry-after"),
        "x-request-id": response.headers.get("x-request-id"),
        "content-type": response.headers.get("content-type"),
        "method": response.request.method,
        # the write gate stored the key as <redacted>, which the URL escapes
        "url": str(response.request.url).replace("qsecret-7788", "%3Credacted%3E"),
        "request_id": error.request_id,
        "request is the response's": error.request is response.request,
    }


@pytest.mark.parametrize("model", ["rate-limited", "bad-model"])
def test_a_replayed_error_has_the_recorded_status_url_and_headers(
    model, openai_server, store_dir, make_client, closed_url
):
    with apirec.recording(store_dir, mode="record", store_errors="all") as rec:
        patch(rec, "openai")
        live = _call(make_client(openai_server.base_url, is_async=False), model)
    served = openai_server.requests
    openai_server.stop()
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        replayed = _call(make_client(closed_url, is_async=False), model)
    assert openai_server.requests == served

    assert _seen(replayed) == _seen(live)
    assert replayed.response.request.url.host == "127.0.0.1"  # the server's, not the client's
    assert str(replayed.response.request.url.port) in openai_server.base_url
    if model == "rate-limited":
        assert replayed.response.headers["retry-after"] == "0"
        assert replayed.request_id == live.request_id == "req_1"
    # what was secret stays out of the file and of the replayed headers
    stored = "".join(p.read_text() for p in store_dir.rglob("*.json"))
    for secret in ("cookie-secret-1", "org-secret-2", "proj-secret-3", "qsecret-7788"):
        assert secret not in stored
    assert replayed.response.headers["openai-organization"] == "<redacted>"
    assert live.response.headers["openai-organization"] == "org-secret-2"
    # the note says what is there and what is not
    [note] = replayed.__notes__
    assert "absent on replay" not in note
    assert "recorded status, method, URL and response headers" in note
    assert "no body" in note


async def test_the_async_client_replays_the_same_response(
    openai_server, store_dir, make_client, closed_url
):
    async def call(client):
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(
                model="rate-limited", messages=MESSAGES, extra_query=QUERY
            )
        return caught.value

    with apirec.recording(store_dir, mode="record", store_errors="all") as rec:
        patch(rec, "openai")
        live = await call(make_client(openai_server.base_url))
    openai_server.stop()
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        replayed = await call(make_client(closed_url))
    assert _seen(replayed) == _seen(live)


def _recorded_error(openai_server: Any, store_dir: Path, make_client: Any) -> tuple[Any, Path]:
    """A 429 recorded through the real client: its entry as stored, and its file."""
    with apirec.recording(store_dir, mode="record", store_errors="all") as rec:
        patch(rec, "openai")
        _call(make_client(openai_server.base_url, is_async=False), "rate-limited")
    [path] = store_dir.rglob("*.json")
    entry = json.loads(path.read_text())
    return entry, path


def test_an_error_recorded_before_keeps_its_made_up_response_and_says_so(
    openai_server, store_dir, make_client, closed_url
):
    entry, path = _recorded_error(openai_server, store_dir, make_client)
    del entry["response"]["exception_data"]["http_response"]  # as apirec wrote it before
    path.write_text(json.dumps(entry, indent=2) + "\n")
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        replayed = _call(make_client(closed_url, is_async=False), "rate-limited")
    assert replayed.response.status_code == 429
    assert str(replayed.response.request.url) == closed_url + "/"  # the client's base URL
    assert replayed.response.headers["x-request-id"] == replayed.request_id == "req_1"
    assert "retry-after" not in replayed.response.headers
    [note] = replayed.__notes__
    assert "made up" in note and "base URL" in note


def test_a_broken_recorded_response_is_an_error_naming_the_file(
    openai_server, store_dir, make_client, closed_url
):
    entry, path = _recorded_error(openai_server, store_dir, make_client)
    entry["response"]["exception_data"]["http_response"]["headers"] = "retry-after: 0"
    path.write_text(json.dumps(entry, indent=2) + "\n")
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        with pytest.raises(apirec.DecodeError) as caught:
            make_client(closed_url, is_async=False).chat.completions.create(
                model="rate-limited", messages=MESSAGES, extra_query=QUERY
            )
    assert path.name in str(caught.value) and "http_response" in str(caught.value)
