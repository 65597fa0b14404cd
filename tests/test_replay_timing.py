"""Replay at the recorded pace, opt-in (issue 21, point 7). Only lower bounds are asserted: a
paced replay waits at least as long as the live call took (times its factor)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

import apirec

from .plugin_helpers import INI


@apirec.record(name="slow.answer")
def answer(question: str) -> str:
    time.sleep(0.3)
    return question.upper()


@apirec.record(name="slow.tokens")
async def tokens(prompt: str):
    for word in prompt.split():
        await asyncio.sleep(0.1)
        yield word


def timed(function, *args):
    start = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - start


def test_an_answer_waits_as_long_as_its_live_call_took(store_dir):
    with apirec.recording(store_dir, mode="record"):
        answer("why")
    [entry] = [json.loads(p.read_text()) for p in store_dir.glob("*.json")]
    took = entry["ledger"]["seconds"]
    assert took >= 0.3
    with apirec.recording(store_dir, replay_timing="recorded"):
        result, elapsed = timed(answer, "why")
    assert result == "WHY" and elapsed >= took - 0.005
    with apirec.recording(store_dir, replay_timing=0.5):  # twice as fast
        _, elapsed = timed(answer, "why")
    assert elapsed >= took / 2 - 0.005


async def test_a_stream_yields_each_chunk_when_it_came(store_dir):
    async with apirec.recording(store_dir, mode="record"):
        assert [w async for w in tokens("one two three")] == ["one", "two", "three"]
    [entry] = [json.loads(p.read_text()) for p in store_dir.glob("*.json")]
    due = entry["ledger"]["chunk_seconds"]
    assert len(due) == 3 and due == sorted(due) and due[0] >= 0.1
    async with apirec.recording(store_dir, replay_timing="recorded"):
        start = time.monotonic()
        arrived = [(w, time.monotonic() - start) async for w in tokens("one two three")]
    assert [w for w, _ in arrived] == ["one", "two", "three"]
    for (_, at), expected in zip(arrived, due, strict=True):
        assert at >= expected - 0.01


def test_answers_with_no_ledger_replay_at_once_and_bad_values_are_refused(store_dir):
    with apirec.recording(store_dir, mode="record"):
        answer("old")
    [path] = store_dir.glob("*.json")
    entry = json.loads(path.read_text())
    del entry["ledger"]  # recorded before the ledger
    path.write_text(json.dumps(entry))
    with apirec.recording(store_dir, replay_timing="recorded"):
        assert answer("old") == "OLD"
    for bad in ("slow", 0, -1, float("inf")):
        with pytest.raises(ValueError, match="replay timing"):
            apirec.recording(store_dir, replay_timing=bad)


@pytest.mark.parametrize("flag", [True, False])
def test_a_bool_is_not_a_replay_timing(store_dir, flag):
    # True once replayed at the recorded pace as a factor of 1 (float(True)), said nowhere
    with pytest.raises(
        ValueError, match=r"replay_timing: (True|False) is not a replay timing"
    ) as e:
        apirec.recording(store_dir, replay_timing=flag)
    assert "'recorded'" in str(e.value) and "a number > 0" in str(e.value)


def test_the_marker_and_the_option(pytester):
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(
        slow="""
import time, apirec

@apirec.record(name="slow.answer")
def answer(question):
    time.sleep(0.3)
    return question.upper()
""",
        test_paced="""
import time, pytest, slow

def took(question):
    start = time.monotonic()
    slow.answer(question)
    return time.monotonic() - start

@pytest.mark.apirec(replay_timing="recorded")
def test_marker(apirec):
    assert took("a") >= 0.29 or apirec.mode.value == "record"

def test_option(apirec, request):
    paced = request.config.getoption("apirec_replay_timing") == "recorded"
    assert took("b") >= 0.29 or not paced
""",
    )
    pytester.syspathinsert()
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    pytester.runpytest("--apirec-replay-timing=recorded").assert_outcomes(passed=2)
    result = pytester.runpytest("--apirec-replay-timing=slowly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
