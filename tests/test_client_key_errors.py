"""An error an SDK's client raised before any request (a missing API key) is never stored:
not by a ``@record`` function whose body builds the client (the quickstart), not by an
integration; the call fails with the SDK's error and a note, and a test that stored nothing
for that reason says so, not "decorate the function"."""

from __future__ import annotations

import openai
import pytest

import apirec
from apirec.integrations import patch

NOTE = "raised this in its client before any request reached the service"


@pytest.fixture
def no_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "ANTHROPIC_API_KEY", "CO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _chat(base_url: str):
    @apirec.record(name="llm.chat")
    def chat(prompt: str) -> str:
        client = openai.OpenAI(base_url=base_url, max_retries=0)  # OPENAI_API_KEY
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}]
        )
        return reply.choices[0].message.content or ""

    return chat


def test_a_missing_key_in_a_recorded_function_is_not_stored(tmp_path, openai_server, no_keys):
    chat = _chat(openai_server.base_url)
    with (
        apirec.recording(path=tmp_path, mode="record-if-missing") as rec,
        pytest.raises(openai.OpenAIError, match="Missing credentials") as raised,
    ):
        chat("hi")
    assert any(NOTE in n and "llm.chat()" in n for n in raised.value.__notes__)
    assert rec.stats.recorded == 0 and rec.stats.client_errors == 1
    assert list(tmp_path.rglob("*.json")) == []
    # the key set: the same command records the service's answer, which then replays
    no_keys.setenv("OPENAI_API_KEY", "sk-test")
    with apirec.recording(path=tmp_path, mode="record-if-missing") as rec:
        answer = chat("hi")
    assert rec.stats.recorded == 1
    with apirec.recording(path=tmp_path, mode="replay") as rec:
        assert chat("hi") == answer
    assert rec.stats.replayed == 1


def test_a_client_error_inside_an_integrations_call_is_not_stored(tmp_path, no_keys):
    import anthropic

    client = anthropic.Anthropic(base_url="http://127.0.0.1:9", max_retries=0)
    with apirec.recording(path=tmp_path, mode="record") as rec:
        patch(rec, "anthropic")
        with pytest.raises(TypeError, match="authentication") as raised:
            client.messages.create(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
            )
    assert any(NOTE in n for n in raised.value.__notes__)
    assert rec.stats.client_errors == 1 and list(tmp_path.rglob("*.json")) == []


PLUGIN_TEST = """
import openai, pytest

@pytest.fixture
def client():
    return openai.OpenAI(base_url="http://127.0.0.1:9/v1")

def test_setup_fails(apirec, client):
    pass

def test_raises_before_the_request(apirec):
    import myapp

    with pytest.raises(openai.OpenAIError):
        myapp.chat("hi")
"""


def test_nothing_recorded_says_the_call_raised_before_the_service(pytester, no_keys):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest\n")
    pytester.makepyfile(
        myapp="""
import openai, apirec

@apirec.record(name="llm.chat")
def chat(prompt):
    openai.OpenAI(base_url="http://127.0.0.1:9/v1")
    return prompt
""",
        test_it=PLUGIN_TEST,
    )
    result = pytester.runpytest_subprocess("--apirec-mode=record", "-W", "default")
    out = result.stdout.str()
    assert "test_setup_fails intercepted no call" not in out  # its setup failed: no advice
    assert "decorate the function" not in out
    assert "test_raises_before_the_request" in out and "raised before reaching" in out
