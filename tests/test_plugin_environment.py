"""The run's settings reach the recordings the plugin's fixture does not open, through one
place (apirec.pytest.environment): a conftest's ``apirec.recording(dir)`` and a program a test
starts under ``apirec run`` get every run-level option of the command line, and the run's
budget and prices whatever layer gave them (docs/pytest.md, "Recordings your conftest
opens"; docs/servers.md)."""

from __future__ import annotations

import pytest

from .plugin_helpers import INI

# option -> what the recording's settings then hold (str of it); {objects}: a file:// remote
OPTIONS = [
    ("--apirec-mode=RECORD_IF_MISSING", "mode", "record-if-missing"),
    ("--apirec-replay-timing=0.5", "replay_timing", "0.5"),
    ("--apirec-repeats=last", "repeats", "last"),
    ("--apirec-max-age=30d", "max_age", "30 days, 0:00:00"),
    ("--apirec-expired=fail", "on_expired", "fail"),
    ("--apirec-block-network=off", "block_network", "False"),
    ("--apirec-allow-hosts=api.example.com", "allow_hosts", "('api.example.com',)"),
    ("--apirec-remote={objects}", "remote", "{objects}"),
    ("--apirec-record-budget=5k", "budget", "5k"),
]

# what a recording's settings hold, as the test reads them
READ = """
from apirec.record.budget import budget_of

def read(rec, attribute):
    if attribute == "budget":
        return str(budget_of(rec.settings.extra).text)
    return str(getattr(rec.settings, attribute))
"""

CONFTEST = """
from pathlib import Path
import pytest, apirec

@pytest.fixture(scope="session")
def shared():
    with apirec.recording(Path(__file__).parent / "recordings") as rec:
        rec.warn_if_nothing_recorded = False  # these tests only read its settings
        yield rec
"""

OF_THE_CONFTEST = """
from reading import read

def test_it(shared):
    assert read(shared, {attribute!r}) == {expected!r}
"""

PROGRAM = """
import sys
from apirec.record.context import open_recordings
from reading import read

[rec] = open_recordings()  # apirec run's, opened before this line
print("HOLDS", read(rec, sys.argv[1]))
"""

UNDER_APIREC_RUN = """
import subprocess, sys

def test_it():
    done = subprocess.run(
        [sys.executable, "-m", "apirec", "run", "--", sys.executable, "program.py",
         {attribute!r}],
        capture_output=True, text=True, timeout=120,
    )
    assert "HOLDS " + {expected!r} in done.stdout, (done.stdout, done.stderr)
"""


def _given(pytester, option, expected):
    objects = (pytester.path / "objects").as_uri()
    return option.format(objects=objects), expected.format(objects=objects)


@pytest.mark.parametrize(("option", "attribute", "expected"), OPTIONS)
def test_a_conftest_recording_follows_the_command_line(pytester, option, attribute, expected):
    option, expected = _given(pytester, option, expected)
    pytester.makeini(INI.format(extra=""))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        reading=READ, test_it=OF_THE_CONFTEST.format(attribute=attribute, expected=expected)
    )
    pytester.syspathinsert()
    pytester.runpytest(option).assert_outcomes(passed=1)


@pytest.mark.parametrize(("option", "attribute", "expected"), OPTIONS)
def test_a_program_under_apirec_run_follows_the_command_line(pytester, option, attribute, expected):
    option, expected = _given(pytester, option, expected)
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(
        reading=READ,
        program=PROGRAM,
        test_it=UNDER_APIREC_RUN.format(attribute=attribute, expected=expected),
    )
    pytester.runpytest(option).assert_outcomes(passed=1)


def test_the_ini_file_stays_the_plugins(pytester):
    """A project's ini is read by every session in it; the environment by every process the
    run starts: an ini value is the plugin's recordings', not exported (the budget aside)."""
    pytester.makeini(INI.format(extra="apirec_replay_timing = recorded\napirec_repeats = last"))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        reading=READ,
        test_it="""
from reading import read

def test_it(shared, apirec):
    assert read(shared, "replay_timing") == "None"
    assert read(shared, "repeats") == "None"
    assert read(apirec, "replay_timing") == "1.0"  # the fixture's: every layer
    assert read(apirec, "repeats") == "last"
""",
    )
    pytester.syspathinsert()
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_environment_is_put_back_after_the_run(pytester, monkeypatch):
    monkeypatch.setenv("APIREC_REPEATS", "exact")
    monkeypatch.delenv("APIREC_REPLAY_TIMING", raising=False)
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(test_it="def test_it(apirec):\n    pass\n")
    result = pytester.runpytest("--apirec-repeats=last", "--apirec-replay-timing=recorded")
    result.assert_outcomes(passed=1)
    import os

    assert os.environ["APIREC_REPEATS"] == "exact"
    assert "APIREC_REPLAY_TIMING" not in os.environ


# A suite whose conftest opens the recording; llm.chat's answers report their usage.
LLM = """
import apirec

@apirec.record(name="llm.chat")
def chat(prompt):
    return {"model": "gpt-4o", "text": prompt.upper(),
            "usage": {"prompt_tokens": 1_200_000, "completion_tokens": 300_000}}
"""
AUTOUSE = """
from pathlib import Path
import pytest, apirec

@pytest.fixture(scope="session", autouse=True)
def shared_recordings():
    with apirec.recording(Path(__file__).parent / "recordings") as rec:
        yield rec
"""
PRICES = "[gpt-4o]\ninput = 2.50\noutput = 10.00\n"


@pytest.mark.parametrize("given", ["option", "environment"])
def test_the_prices_price_what_a_conftest_recording_saved(pytester, monkeypatch, given):
    pytester.makeini(INI.format(extra=""))
    pytester.makeconftest(AUTOUSE)
    pytester.makepyfile(llm=LLM, test_llm="import llm\n\ndef test_it():\n    llm.chat('hi')\n")
    table = pytester.makefile(".toml", prices=PRICES)
    pytester.syspathinsert()
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    if given == "environment":  # the lowest layer of --apirec-prices
        monkeypatch.setenv("APIREC_PRICES", str(table))
    result = pytester.runpytest(*(["--apirec-prices=prices.toml"] if given == "option" else []))
    result.assert_outcomes(passed=1)
    # 1.2M input tokens at $2.50 and 0.3M output at $10 per million: $6.00
    result.stdout.fnmatch_lines(["apirec: 1 replayed, *saved * and 1.5M tokens ($6.00)*"])


# The program starts a Python child with an environment of its own (no APIREC_* at all).
PARENT = """
import os, subprocess, sys

done = subprocess.run(
    [sys.executable, "program.py", sys.argv[1]], env={"PATH": os.environ.get("PATH", "")},
    capture_output=True, text=True,
)
print(done.stdout, done.stderr)
"""


@pytest.mark.parametrize(
    ("option", "attribute", "expected"),
    [o for o in OPTIONS if o[1] in ("replay_timing", "budget", "max_age")],
)
def test_a_child_with_an_environment_of_its_own_keeps_the_runs_settings(
    pytester, option, attribute, expected
):
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(
        reading=READ,
        program=PROGRAM,
        parent=PARENT,
        test_it=UNDER_APIREC_RUN.replace('"program.py"', '"parent.py"').format(
            attribute=attribute, expected=expected
        ),
    )
    pytester.runpytest(option).assert_outcomes(passed=1)


# A test that runs pytest itself: the inner session, with the budget only in its environment,
# counts into the run's spend file instead of starting a budget of its own.
OUTER = """
import subprocess, sys, llm

def test_outer(apirec):
    llm.chat("first")  # 1.5M tokens: the budget of 1 is spent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "inner_check.py", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1 and "BudgetExceeded" in done.stdout, done.stdout
"""
INNER = "import llm\n\ndef test_inner(apirec):\n    llm.chat('second')\n"


def test_a_pytest_session_a_test_starts_joins_the_runs_budget(pytester):
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(llm=LLM, test_outer=OUTER, inner_check=INNER)
    pytester.syspathinsert()
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=1")
    result.assert_outcomes(passed=1)
