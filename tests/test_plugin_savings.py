"""The session summary says what the replay saved, from the answers' ledgers, priced with
--apirec-prices (issue 21, point 2)."""

from __future__ import annotations

import json
import re

import pytest

from .plugin_helpers import INI

# A slow, paid call: it reports its usage and its model, as the providers do.
LLM = """
import time, apirec

@apirec.record(name="llm.chat")
def chat(prompt, model="gpt-4o"):
    time.sleep(0.3)
    return {"model": model + "-2024-08-06", "text": prompt.upper(),
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}
"""

TESTS = """
import llm

def test_one(apirec):
    assert llm.chat("hello")["text"] == "HELLO"

def test_two(apirec):
    assert llm.chat("bye", model="mini")["text"] == "BYE"
"""


@pytest.fixture
def project(pytester):
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(llm=LLM, test_calls=TESTS)
    pytester.syspathinsert()
    recorded = pytester.runpytest("--apirec-mode=record")
    recorded.assert_outcomes(passed=2)
    assert "saved" not in summary(recorded)  # nothing was replayed
    return pytester


def summary(result) -> str:
    return next(line for line in result.outlines if line.startswith("apirec: "))


def test_replay_says_the_time_and_tokens_it_saved(project):
    result = project.runpytest()
    result.assert_outcomes(passed=2)
    line = summary(result)
    saved = re.search(r"saved (\d+\.\d+)s of live calls and 3\.0k tokens;", line)
    assert saved, line
    assert 0.6 <= float(saved.group(1)) < 5  # two calls of 0.3 s each, at least
    assert "$" not in line  # no prices given: no money


def test_prices_price_the_saved_tokens_by_model(project):
    # gpt-4o prices what the provider reported as gpt-4o-2024-08-06; "mini" has no price
    project.path.joinpath("prices.toml").write_text(
        "# dollars per million tokens\n[gpt-4o]\ninput = 2.50\noutput = 10.00\n"
    )
    result = project.runpytest("--apirec-prices=prices.toml")
    line = summary(result)
    # 1200 * 2.50 / 1e6 + 300 * 10 / 1e6 = 0.006
    assert "($0.006, 1 answer of unpriced models)" in line, line


def test_prices_from_the_ini_file_as_json(project):
    project.path.joinpath("prices.json").write_text(
        json.dumps({"gpt-4o": {"input": 2.5, "output": 10}, "mini": {"input": 1000, "output": 0}})
    )
    project.makeini(INI.format(extra="apirec_prices = prices.json"))
    line = summary(project.runpytest())
    assert "($1.21)" in line, line  # 0.006 + 1200 * 1000 / 1e6


def test_a_bad_price_table_is_a_usage_error_naming_it(project):
    project.path.joinpath("prices.toml").write_text('[gpt-4o]\ninput = "cheap"\n')
    result = project.runpytest("--apirec-prices=prices.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*prices*prices.toml*'gpt-4o' needs numbers*"])


def test_answers_recorded_before_the_ledger_are_unknown(project):
    for path in (project.path / "recordings").glob("*.json"):
        entry = json.loads(path.read_text())
        if entry["request"]["args"]["prompt"] == "bye":
            del entry["ledger"]
            path.write_text(json.dumps(entry))
    line = summary(project.runpytest())
    assert "and 1.5k tokens (1 recorded before the ledger: unknown)" in line, line
