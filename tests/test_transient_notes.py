"""A call whose recorded outcome was a transient error (not stored) is told apart at replay:
the miss says so, and the recording warns when it closes, outside pytest too (issue 20 point
14). Through the real openai client against the fake of tests/openai_server.py."""

from __future__ import annotations

import openai
import pytest

import apirec
from apirec import integrations
from apirec.errors import TransientErrorWarning

MESSAGES = [{"role": "user", "content": "llamas eat grass"}]


def ask(client, model="busy-twice"):
    return client.chat.completions.create(model=model, messages=MESSAGES)


def test_a_final_429_warns_at_record_and_its_miss_says_why(
    store_dir, openai_server, make_client, closed_url
):
    client = make_client(openai_server.base_url, is_async=False)
    with (
        pytest.warns(TransientErrorWarning, match=r"1 call .* ended in a transient error") as seen,
        apirec.recording(store_dir, mode="record") as rec,
    ):
        integrations.patch(rec, "openai")
        with pytest.raises(openai.RateLimitError):
            ask(client)  # the app gave up after one attempt: a 429 is its last outcome
    assert "openai.chat.completions.create()" in str(seen[0].message)
    assert "RateLimitError (HTTP 429)" in str(seen[0].message)
    assert not list(store_dir.glob("*.json"))

    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        with pytest.raises(apirec.RecordingNotFound) as miss:
            ask(make_client(closed_url, is_async=False))
    message = str(miss.value)
    assert "The recorded call ended in a transient error that was not stored" in message
    assert "RateLimitError (HTTP 429)" in message


def test_a_retry_that_got_its_answer_neither_warns_nor_leaves_a_note(
    store_dir, openai_server, make_client, closed_url, recwarn
):
    client = make_client(openai_server.base_url, is_async=False)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        for _ in range(2):
            with pytest.raises(openai.RateLimitError):
                ask(client)
        answer = ask(client)
    assert not [w for w in recwarn if w.category is TransientErrorWarning]
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        assert ask(make_client(closed_url, is_async=False)) == answer


def test_recording_it_again_drops_the_note(store_dir, openai_server, make_client, closed_url):
    client = make_client(openai_server.base_url, is_async=False)
    with pytest.warns(TransientErrorWarning), apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        with pytest.raises(openai.RateLimitError):
            ask(client)
    with apirec.recording(store_dir, mode="record-if-missing") as rec:
        integrations.patch(rec, "openai")
        with pytest.raises(openai.RateLimitError):
            ask(client)  # the second 429 of "busy-twice"
        ask(client)  # then its answer
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        ask(make_client(closed_url, is_async=False))
        with pytest.raises(apirec.RecordingNotFound) as miss:
            ask(make_client(closed_url, is_async=False), model="never-asked")
    assert "ended in a transient error" not in str(miss.value)
    assert not (store_dir / ".apirec-transient").exists()


def test_no_warning_when_an_older_answer_stays_in_place(store_dir, recwarn):
    outcomes = iter(["sunny", ConnectionResetError("reset by peer")])

    @apirec.record(name="weather")
    def weather(city):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with apirec.recording(store_dir, mode="record"):
        assert weather("Paris") == "sunny"
    with apirec.recording(store_dir, mode="record"), pytest.raises(ConnectionResetError):
        weather("Paris")  # nothing replaces the answer of the earlier run
    assert not [w for w in recwarn if w.category is TransientErrorWarning]
    with apirec.recording(store_dir, mode="replay"):
        assert weather("Paris") == "sunny"
    assert not (store_dir / ".apirec-transient").exists()
