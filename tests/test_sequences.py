"""Sequences (issue 18, C9 and C10) outside pytest's plugin: a call past the end of a recorded
sequence is a miss unless ``repeats="last"`` (on the recording, the function or the
environment; llama-stack keys repeat by default), and ``rec.unplayed()`` lists the answers a
run left unplayed."""

from __future__ import annotations

import openai
import pytest

import apirec
from apirec.integrations.openai import patch_openai

TEST_ID = "tests/test_agent.py::test_agent"
calls: list[str] = []


@apirec.record(name="seq.poll")
def poll(job: str) -> dict:
    calls.append(job)
    return {"job": job, "n": len(calls)}


@apirec.record(name="seq.status", repeats="last")
def status() -> str:
    calls.append("status")
    return f"status {len(calls)}"


@apirec.record(name="seq.strict", repeats="exact")
def strict() -> int:
    calls.append("strict")
    return len(calls)


@apirec.record(name="seq.models", shared=True)
def models() -> list[str]:
    return ["m1"]


@pytest.fixture(autouse=True)
def _fresh():
    calls.clear()


def test_a_call_past_the_end_is_a_miss_that_says_which_call_and_how_many(store_dir):
    with apirec.recording(store_dir, mode="record"):
        poll("a"), poll("a")
    with apirec.recording(store_dir) as rec:
        assert [poll("a")["n"], poll("a")["n"]] == [1, 2]
        with pytest.raises(apirec.SequenceExhausted) as caught:
            poll("a")
    error = caught.value
    assert isinstance(error, apirec.RecordingNotFound) and isinstance(error, AssertionError)
    assert (error.call_number, error.recorded, error.function) == (3, 2, "seq.poll")
    assert error.arguments == {"job": "a"} and error.location == str(store_dir)
    message = str(error)
    assert message.startswith("call 3 of seq.poll() but 2 answers were recorded for it")
    assert f"{error.key}.json, {error.key}.1.json" in message
    assert "record-if-missing" in message and "repeats='last'" in message
    assert rec.stats.missed == 1 and calls == ["a", "a"]


def test_the_function_s_repeats_wins_over_the_recording_s(store_dir):
    with apirec.recording(store_dir, mode="record"):
        status(), strict()
    with apirec.recording(store_dir):
        assert [status(), status(), status()] == ["status 1"] * 3  # the function says last
    with apirec.recording(store_dir, repeats="last"):
        assert strict() == 2
        with pytest.raises(apirec.SequenceExhausted):  # the function says exact
            strict()


def test_repeats_from_the_environment_below_the_argument(store_dir, monkeypatch):
    with apirec.recording(store_dir, mode="record"):
        poll("b")
    monkeypatch.setenv("APIREC_REPEATS", "last")
    with apirec.recording(store_dir):
        assert [poll("b")["n"], poll("b")["n"]] == [1, 1]
    with apirec.recording(store_dir, repeats="exact"), pytest.raises(apirec.SequenceExhausted):
        poll("b"), poll("b")
    monkeypatch.setenv("APIREC_REPEATS", "sometimes")
    with pytest.raises(ValueError, match="environment variable APIREC_REPEATS: 'sometimes'"):
        apirec.recording(store_dir)


@pytest.mark.parametrize("value", ["Last", "all", 1, True])
def test_a_bad_repeats_value_is_a_clear_error(store_dir, value):
    with pytest.raises(ValueError, match=r"not a valid repeats value; use 'exact'.*or 'last'"):
        apirec.recording(store_dir, repeats=value)
    with pytest.raises(ValueError, match="not a valid repeats value"):
        apirec.record(repeats=value)(lambda: None)


def test_record_if_missing_records_a_call_past_the_end(store_dir):
    with apirec.recording(store_dir, mode="record"):
        poll("c")
    with apirec.recording(store_dir, mode="record-if-missing") as rec:
        assert [poll("c")["n"], poll("c")["n"]] == [1, 2]  # the second called through
    assert rec.stats.recorded == 1 and rec.stats.replayed == 1
    with apirec.recording(store_dir):
        assert [poll("c")["n"], poll("c")["n"]] == [1, 2]


MESSAGES = [{"role": "user", "content": "next step"}]


async def test_llama_stack_keys_repeat_by_default_and_exact_is_a_choice(
    openai_server, closed_url, store_dir, make_client
):
    with apirec.recording(store_dir, mode="record") as rec, apirec.test_context(TEST_ID):
        patch_openai(rec, keys="llama-stack")
        live = await make_client(openai_server.base_url).chat.completions.create(
            model="m", messages=MESSAGES
        )
    with apirec.recording(store_dir) as rec, apirec.test_context(TEST_ID):
        patch_openai(rec, keys="llama-stack")
        client = make_client(closed_url)
        for _ in range(3):  # llama-stack's recorder gave one file any number of calls
            again = await client.chat.completions.create(model="m", messages=MESSAGES)
            assert again.choices == live.choices
    with apirec.recording(store_dir, repeats="exact") as rec, apirec.test_context(TEST_ID):
        patch_openai(rec, keys="llama-stack")
        client = make_client(closed_url)
        await client.chat.completions.create(model="m", messages=MESSAGES)
        with pytest.raises(apirec.SequenceExhausted, match=r"call 2 of .* but 1 answer was"):
            await client.chat.completions.create(model="m", messages=MESSAGES)
    assert openai_server.requests == 1


# -- rec.unplayed() --------------------------------------------------------------------------


def agent(client: openai.OpenAI, steps: int, *, summary: bool) -> list[str]:
    """An agent loop: the same step asked ``steps`` times, then maybe a summary."""
    said = []
    for _ in range(steps):
        reply = client.chat.completions.create(model="m", messages=MESSAGES)
        said.append(reply.choices[0].message.content)
    if summary:
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "sum up"}]
        )
        said.append(reply.choices[0].message.content)
    return said


def run_agent(store_dir, base_url, steps, *, summary=False, mode="replay", test_id=TEST_ID):
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
    with client, apirec.recording(store_dir, mode=mode, test_id=test_id) as rec:
        apirec.integrations.patch(rec, "openai")
        models()
        agent(client, steps, summary=summary)
    return rec


def test_unplayed_lists_the_answers_of_an_agent_that_now_stops_early(
    openai_server, closed_url, store_dir
):
    run_agent(store_dir, openai_server.base_url, 3, summary=True, mode="record")
    assert run_agent(store_dir, closed_url, 3, summary=True).unplayed() == []
    rec = run_agent(store_dir, closed_url, 1)  # two steps fewer, the summary call gone
    missing = rec.unplayed()
    create = "openai.chat.completions.create"
    assert sorted((u.function, u.slot) for u in missing) == [(create, 0), (create, 1), (create, 2)]
    assert {u.test_id for u in missing} == {TEST_ID}
    steps = [u for u in missing if u.slot > 0]
    assert len({u.key for u in steps}) == 1
    assert [u.file for u in steps] == [
        str(store_dir / f"{steps[0].key}.1.json"),
        str(store_dir / f"{steps[0].key}.2.json"),
    ]
    (summary,) = [u for u in missing if u.key != steps[0].key]
    assert summary.file == str(store_dir / f"{summary.key}.json")
    assert openai_server.requests == 4


def test_unplayed_judges_only_this_test_and_never_shared_answers(
    openai_server, closed_url, store_dir
):
    run_agent(store_dir, openai_server.base_url, 2, mode="record")
    run_agent(store_dir, openai_server.base_url, 2, mode="record", test_id="other::test")
    with apirec.recording(store_dir, mode="record"):
        models(), models()  # a second shared answer nobody replays below
    rec = run_agent(store_dir, closed_url, 2)
    assert rec.unplayed() == []  # the other test's answers and shared ones are not its own
    live = run_agent(store_dir, closed_url, 0, mode="live")
    assert live.unplayed() == []


def test_unplayed_outside_any_test_uses_the_current_test_context(store_dir):
    with apirec.recording(store_dir, mode="record"), apirec.test_context("t::one"):
        poll("d"), poll("d")
    with apirec.test_context("t::one"):
        with apirec.recording(store_dir) as rec:
            pass  # the call was removed altogether
        (first, second) = rec.unplayed()
    assert (first.function, first.slot, second.slot) == ("seq.poll", 0, 1)
    assert rec.unplayed() == []  # outside the test context: no test to judge
