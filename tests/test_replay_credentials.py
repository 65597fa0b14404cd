"""A replay needs no credentials (issue 17, point 11): while an SDK is patched into a recording
that replays, its clients build without an API key, as in a fork's pull request; the
placeholder is never sent, stored or keyed, and the environment is as it was afterwards."""

from __future__ import annotations

import inspect
import os
import threading

import anthropic
import groq
import openai
import pytest
import tavily
from google import genai
from google.genai import types

import apirec
from apirec.integrations import patch
from apirec.integrations.credentials import PLACEHOLDER
from apirec.integrations.openai import patch_openai
from tests.genai_server import GenAIServer
from tests.tavily_server import TavilyServer

from .plugin_helpers import setup

HI = [{"role": "user", "content": "name a llama"}]
KEYS = (
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_FOUNDRY_API_KEY",
    "GROQ_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "TAVILY_API_KEY",
)


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    """A fork's pull request: none of the providers' keys is set."""
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


def chat(client):
    return client.chat.completions.create(model="m", messages=HI)


@pytest.mark.parametrize(
    ("sdk", "make"),
    [
        ("openai", lambda url, **key: openai.OpenAI(base_url=url, max_retries=0, **key)),
        ("openai", lambda url, **key: openai.AsyncOpenAI(base_url=url, max_retries=0, **key)),
        ("groq", lambda url, **key: groq.Groq(base_url=url.removesuffix("/v1"), **key)),
    ],
    ids=["openai", "async-openai", "groq"],
)
async def test_a_client_builds_without_a_key_while_its_sdk_replays(
    sdk, make, openai_server, closed_url, store_dir
):
    made = []

    async def ask(url, **key):
        made.append(make(url, **key))
        reply = chat(made[-1])
        return await reply if inspect.isawaitable(reply) else reply

    try:
        with apirec.recording(store_dir, mode="record") as rec:
            patch(rec, sdk)
            live = await ask(openai_server.base_url, api_key="sk-test")
        files = {p: p.read_bytes() for p in store_dir.rglob("*.json")}
        with apirec.recording(store_dir, mode="replay") as rec:
            patch(rec, sdk)
            replayed = await ask(closed_url)  # no api_key=, no variable: builds all the same
    finally:
        for client in made:
            closing = client.close()
            if inspect.isawaitable(closing):
                await closing
    assert replayed == live and rec.stats.replayed == 1
    assert {p: p.read_bytes() for p in store_dir.rglob("*.json")} == files  # nothing written
    assert not any(os.environ.get(name) for name in KEYS)  # gone with the recording
    with pytest.raises((openai.OpenAIError, groq.GroqError)):  # as before, outside a replay
        make(closed_url)


def test_anthropic_and_tavily_and_genai_build_without_keys(store_dir):
    genai_fake, tavily_fake = GenAIServer().start(), TavilyServer().start()
    try:
        options = types.HttpOptions(
            base_url=genai_fake.url, retry_options=types.HttpRetryOptions(attempts=1)
        )
        with apirec.recording(store_dir, mode="record") as rec:
            patch(rec, "google.genai", "tavily")
            gemini = genai.Client(api_key="k", http_options=options)
            search = tavily.TavilyClient(api_key="tvly-k", api_base_url=tavily_fake.url)
            live = (gemini.models.count_tokens(model="m", contents="a b"), search.search("q"))
        with apirec.recording(store_dir, mode="replay") as rec:
            patch(rec, "google.genai", "tavily", "anthropic")
            anthropic.Anthropic()  # no key: builds
            gemini = genai.Client(http_options=options)
            search = tavily.TavilyClient(api_base_url=tavily_fake.url)
            replayed = (gemini.models.count_tokens(model="m", contents="a b"), search.search("q"))
    finally:
        genai_fake.stop()
        tavily_fake.stop()
    assert replayed == live
    assert not any(os.environ.get(name) for name in KEYS)


def test_only_in_replay_mode_and_never_over_the_users_own_key(monkeypatch, store_dir):
    with apirec.recording(store_dir, mode="record-if-missing") as rec:
        rec.warn_if_nothing_recorded = False
        patch(rec, "openai")
        assert "OPENAI_API_KEY" not in os.environ  # a live call would send it: no placeholder
    monkeypatch.setenv("OPENAI_API_KEY", "sk-mine")
    monkeypatch.setenv("GEMINI_API_KEY", "")  # set but empty: counts as not set
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai", "google.genai")
        assert os.environ["OPENAI_API_KEY"] == "sk-mine"
        assert os.environ["GOOGLE_API_KEY"] == PLACEHOLDER
        assert os.environ["GEMINI_API_KEY"] == ""  # one of the pair only: genai warns if both
    assert os.environ["OPENAI_API_KEY"] == "sk-mine"
    assert os.environ["GEMINI_API_KEY"] == "" and "GOOGLE_API_KEY" not in os.environ


def test_overlapping_recordings_in_threads_keep_it_until_the_last_one_closes(store_dir):
    outer = apirec.recording(store_dir, mode="replay")
    inner = apirec.recording(store_dir / "other", mode="replay")
    opened, closed = threading.Event(), threading.Event()

    def other_thread():
        with inner as rec:
            patch(rec, "openai")
            opened.set()
            closed.wait(10)

    with outer as rec:
        patch(rec, "openai")
        thread = threading.Thread(target=other_thread)
        thread.start()
        opened.wait(10)
    assert os.environ["OPENAI_API_KEY"] == PLACEHOLDER  # the other recording still replays
    openai.OpenAI()
    closed.set()
    thread.join(10)
    assert "OPENAI_API_KEY" not in os.environ


def test_patch_openai_with_llama_stack_keys_too(store_dir):
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec, keys="llama-stack")
        openai.OpenAI()
    assert "OPENAI_API_KEY" not in os.environ


# a client built by a session fixture, before any test's recording is open
CONFTEST = """
import os
import openai
import pytest

@pytest.fixture(scope="session")
def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], max_retries=0)
"""

TEST = """
import pytest

pytestmark = pytest.mark.apirec

def test_chat(client):
    reply = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content == "You said: hello there"

def test_built_inside():
    import openai
    assert openai.OpenAI().api_key
"""


def test_the_plugin_builds_clients_without_keys_in_a_replay_run(
    pytester, monkeypatch, openai_server
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_chat=TEST)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")  # recording takes the real key
    pytester.runpytest(
        "--apirec-mode=record", "--apirec-integrations=openai", "test_chat.py::test_chat"
    ).assert_outcomes(passed=1)
    served = openai_server.requests
    monkeypatch.delenv("OPENAI_API_KEY")
    replayed = pytester.runpytest("--apirec-integrations=openai")  # replay: the default
    replayed.assert_outcomes(passed=2)
    assert openai_server.requests == served
    assert "OPENAI_API_KEY" not in os.environ  # put back when the run ended


def test_a_client_built_with_the_placeholder_never_calls_the_service(openai_server, store_dir):
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        client = openai.OpenAI(base_url=openai_server.base_url, max_retries=0)
    with apirec.recording(store_dir, mode="record-if-missing") as rec:
        patch(rec, "openai")
        with pytest.raises(apirec.ApirecError, match="placeholder"):
            chat(client)
    client.close()
    assert openai_server.requests == 0
    assert list(store_dir.rglob("*.json")) == []  # no refusal of the placeholder stored


FIXTURE_CLIENT = """
import os

import openai
import pytest

from apirec import integrations


@pytest.fixture
def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], max_retries=0)


def test_chat(apirec, client):
    integrations.patch(apirec, "openai")  # the README's "name your SDKs", in the body
    reply = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content == "You said: hello there"
"""


def test_a_client_built_in_a_fixture_replays_with_the_sdk_named_in_the_ini_else_a_note_says_so(
    pytester, monkeypatch, openai_server
):
    # newuser 20: the body's patch set the placeholder key after the fixture built the client,
    # and replay with no key failed at setup with openai's "Missing credentials" alone
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester)
    pytester.makepyfile(test_chat=FIXTURE_CLIENT)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    monkeypatch.delenv("OPENAI_API_KEY")

    unnamed = pytester.runpytest()  # replay, no key
    unnamed.assert_outcomes(errors=1)
    out = unnamed.stdout.str()
    assert "Missing credentials" in out
    assert "apirec: name openai in the ini key apirec_integrations" in out
    assert "--apirec-integrations=openai): this replay run has no OPENAI_API_KEY" in out

    setup(pytester, "apirec_integrations = openai")
    named = pytester.runpytest()
    named.assert_outcomes(passed=1)
    assert "apirec: name openai" not in named.stdout.str()
