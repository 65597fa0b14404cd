"""Review 21: replay at the recorded pace (replay_timing=) reads its waits from the ledger of
a recording, which is data from a pull request.

tests/test_ledger.py: "damaged ledgers are unknown too, never an error: the ledger is only a
report"; README, Safety: "a hostile file raises only apirec.ApirecError subclasses naming the
file". docs/how-it-works.md: answers without a (usable) ledger replay at once.
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest

import apirec


@apirec.record(name="paced.answer")
def answer(question: str) -> str:
    return question.upper()


@apirec.record(name="paced.async_answer")
async def async_answer(question: str) -> str:
    return question.upper()


def damage(store_dir, seconds: float) -> None:
    """Every recording's ledger says the live call took ``seconds`` (JSON NaN / Infinity)."""
    for path in store_dir.glob("*.json"):
        entry = json.loads(path.read_text())
        entry["ledger"]["seconds"] = seconds
        path.write_text(json.dumps(entry))  # NaN and Infinity, as Python's json writes them


# 1e16 s: finite, and no live call ever took it (a hostile file's "317 million years")
@pytest.mark.parametrize("seconds", [math.nan, math.inf, 1e16])
def test_a_damaged_ledger_does_not_break_a_paced_replay(store_dir, seconds):
    with apirec.recording(store_dir, mode="record"):
        answer("why")
    damage(store_dir, seconds)
    with apirec.recording(store_dir, replay_timing="recorded"):
        try:
            assert answer("why") == "WHY"
        except apirec.ApirecError as error:  # refusing the file, naming it, is right too
            assert str(store_dir) in str(error)


@pytest.mark.parametrize("seconds", [math.nan, math.inf, 1e16])
async def test_a_damaged_ledger_does_not_hang_a_paced_async_replay(store_dir, seconds):
    async with apirec.recording(store_dir, mode="record"):
        await async_answer("why")
    damage(store_dir, seconds)
    async with apirec.recording(store_dir, replay_timing="recorded"):
        try:
            # a guard against a hang, not a timing assertion: at once or an error is right
            assert await asyncio.wait_for(async_answer("why"), 3) == "WHY"
        except apirec.ApirecError as error:
            assert str(store_dir) in str(error)


def test_stats_take_a_nan_ledger_as_damaged(store_dir, capsys):
    from apirec.cli.app import main

    with apirec.recording(store_dir, mode="record"):
        answer("why")
    damage(store_dir, math.nan)
    assert main(["stats", str(store_dir), "--json"]) == 0
    out = capsys.readouterr().out
    json.loads(out, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))


# A suite whose conftest opens the recording (docs/pytest.md, "Recordings your conftest
# opens"); llm.chat took 0.3 s live.
LLM = """
import time, apirec

@apirec.record(name="llm.chat")
def chat(prompt):
    time.sleep(0.3)
    return {"model": "gpt-4o", "text": prompt.upper(),
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}
"""
CONFTEST = """
from pathlib import Path
import pytest, apirec

@pytest.fixture(scope="session", autouse=True)
def shared_recordings():
    with apirec.recording(Path(__file__).parent / "recordings") as rec:
        yield rec
"""
TIMED = """
import json, time
from pathlib import Path
import llm

def test_one():
    start = time.monotonic()
    assert llm.chat("hello")["text"] == "HELLO"
    took = time.monotonic() - start
    [path] = (Path(__file__).parent / "recordings").glob("*.json")
    recorded = json.loads(path.read_text())["ledger"]["seconds"]
    assert took >= recorded - 0.005, (took, recorded)  # a lower bound only
"""


def test_the_option_paces_the_recordings_a_conftest_opens(pytester):
    from .plugin_helpers import INI

    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(llm=LLM, test_timed=TIMED)
    pytester.makeconftest(CONFTEST)
    pytester.syspathinsert()
    recorded = pytester.runpytest("--apirec-mode=record")
    recorded.assert_outcomes(passed=1)  # live, the call takes as long as it took
    result = pytester.runpytest("--apirec-replay-timing=recorded")
    result.assert_outcomes(passed=1)
