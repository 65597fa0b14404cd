"""The network guard with real SDKs (issue 11, D17): an entry point the recording did not patch
(openai's ``.parse()``, ``ollama.Client.chat``) cannot reach the network on replay, while the
loopback fake server still answers."""

from __future__ import annotations

import openai
import pytest

import apirec

from .plugin_helpers import setup

MESSAGES = [{"role": "user", "content": "llamas eat grass"}]
CREATE = "openai.resources.chat.completions.{}Completions.create"
# non-loopback addresses, and a name: the guard refuses before any packet or DNS query leaves
BASE_URLS = ["http://192.0.2.1:9/v1", "http://[2001:db8::1]:9/v1", "https://api.openai.com/v1"]


def _blocked_cause(error: BaseException) -> apirec.NetworkBlocked | None:
    while error is not None:
        if isinstance(error, apirec.NetworkBlocked):
            return error
        error = error.__cause__ or error.__context__
    return None


@pytest.mark.parametrize("base_url", BASE_URLS)
async def test_unpatched_async_entry_point_is_blocked(store_dir, make_client, base_url):
    client = make_client(base_url, is_async=True)
    async with apirec.recording(store_dir, mode="replay") as rec:
        rec.patch(CREATE.format("Async"), name="openai.chat")
        with pytest.raises(openai.APIConnectionError) as info:
            await client.chat.completions.parse(model="gpt-test", messages=MESSAGES)
    blocked = _blocked_cause(info.value)
    assert blocked is not None, "the SDK's connection error was not caused by the guard"
    assert blocked.recording == str(store_dir)
    assert blocked.host in base_url
    assert rec.blocked == [blocked]


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_unpatched_sync_entry_point_is_blocked(store_dir, make_client, base_url):
    client = make_client(base_url, is_async=False)
    with apirec.recording(store_dir, mode="replay") as rec:
        rec.patch(CREATE.format(""), name="openai.chat")
        with pytest.raises(openai.APIConnectionError) as info:
            client.chat.completions.parse(model="gpt-test", messages=MESSAGES)
    assert _blocked_cause(info.value) is rec.blocked[0]


def test_ollama_hides_the_cause_but_the_recording_keeps_it(store_dir):
    """ollama replaces the connection error by its own ConnectionError, without the cause:
    the recording (and so the pytest teardown check) still knows what was blocked."""
    import ollama

    client = ollama.Client(host="http://192.0.2.1:11434")
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(ConnectionError) as info,
    ):
        client.chat(model="llama3", messages=MESSAGES)
    assert not isinstance(info.value, apirec.NetworkBlocked)
    [blocked] = rec.blocked
    assert (blocked.host, blocked.port, blocked.recording) == ("192.0.2.1", 11434, str(store_dir))


@pytest.mark.parametrize("is_async", [True, False])
async def test_loopback_fake_server_still_answers_under_replay(
    store_dir, openai_server, make_client, is_async
):
    client = make_client(openai_server.base_url, is_async=is_async)
    async with apirec.recording(store_dir, mode="replay") as rec:
        page = client.models.list()  # not patched: a real request to 127.0.0.1
        page = await page if is_async else page
    assert [m.id for m in page.data] == ["gpt-test", "gpt-test-mini"]
    assert openai_server.requests == 1
    assert rec.blocked == []


SDK_FALLBACK = """
import openai
import pytest

def summarize(client):
    try:
        reply = client.chat.completions.parse(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}]
        )
    except openai.APIConnectionError:
        return "service unavailable"  # the application's fallback hides the bypass
    return reply.choices[0].message.content

@pytest.mark.apirec
def test_summary(apirec):
    apirec.patch("openai.resources.chat.completions.Completions.create", name="openai.chat")
    client = openai.OpenAI(base_url="http://192.0.2.1:9/v1", api_key="sk-test", max_retries=1)
    assert summarize(client) == "service unavailable"
"""


def test_sdk_that_wraps_and_swallows_the_block_still_fails_the_test(pytester):
    """openai wraps NetworkBlocked in APIConnectionError (after its own retry) and the
    application falls back: the test body passes, teardown fails it and names the host."""
    setup(pytester)
    pytester.makepyfile(test_sdk=SDK_FALLBACK)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*NetworkBlocked: a blocked connection was caught by the code under test "
            "(and 1 more); the test fails anyway:",
            "*apirec blocked a connection to 192.0.2.1:9 under replay*",
        ]
    )
