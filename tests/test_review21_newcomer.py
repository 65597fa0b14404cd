"""What a new user met trying the budget and compare runs from the docs alone (issue 21
review): a report asked of a run that compares nothing, a budget of 2.50 tokens, apirec's own
frames in a refused test's traceback, refused calls counted as compared. Through the real
plugin (pytester) and the real CLI.
"""

from __future__ import annotations

import json

import pytest

from apirec.cli.app import main

from .test_plugin_budget import project
from .test_review21_compare import recorded


def test_a_compare_report_in_a_run_that_compares_nothing_is_a_usage_error(pytester):
    """A nightly job given --apirec-compare-report and the wrong mode went green on an empty
    report ({"totals": all 0, "failed": false})."""
    recorded(pytester, 1)
    result = pytester.runpytest("--apirec-compare-report=report.json")
    result.assert_outcomes(passed=1)  # replayed
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        ["*--apirec-compare-report=report.json: the run's mode is replay, not compare*"]
    )
    assert not (pytester.path / "report.json").exists()


@pytest.mark.parametrize("budget", ["2.50", "0.5", "1.2345k"])
def test_a_budget_of_a_fraction_of_a_token_is_a_usage_error(pytester, budget):
    project(pytester, 1)
    result = pytester.runpytest("--apirec-mode=record", f"--apirec-record-budget={budget}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*record budget '{budget}'*a whole number of tokens*"])
    if not budget.endswith("k"):  # a forgotten $: the dollars it meant, quoted
        result.stderr.fnmatch_lines([f"*'--apirec-record-budget=${budget}'*"])
    assert not (pytester.path / "recordings").exists()


@pytest.mark.parametrize("budget", ["1.5k", "2k", "3000"])
def test_a_whole_number_of_tokens_is_a_budget(pytester, budget):
    project(pytester, 1)
    result = pytester.runpytest("--apirec-mode=record", f"--apirec-record-budget={budget}")
    result.assert_outcomes(passed=1)


def test_a_refused_call_shows_the_callers_line_not_apirecs_frames(pytester):
    project(pytester, 3)
    result = pytester.runpytest(
        "--apirec-mode=record", "--apirec-record-budget=2k", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    failure = out[out.index("___ test_2 ___") : out.index("short test summary")]
    assert "BudgetExceeded" in failure and 'llm.chat("question 2")' in failure, failure
    assert "apirec/" not in failure, failure  # no frame of apirec's own source


def test_a_replay_miss_shows_no_integration_frames(pytester, monkeypatch, openai_server):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    from .plugin_helpers import setup

    setup(pytester)
    pytester.makepyfile(
        test_miss="""
import os, openai, pytest

@pytest.mark.apirec(integrations=["openai"])
def test_miss():
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test")
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    failure = out[out.index("___ test_miss ___") : out.index("short test summary")]
    assert "RecordingNotFound" in failure and "client.chat.completions.create(" in failure
    assert "apirec/" not in failure, failure


def test_refused_calls_are_not_counted_as_live_calls_compared(pytester):
    recorded(pytester)
    result = pytester.runpytest(
        "--apirec-mode=compare",
        "--apirec-record-budget=2k",
        "--apirec-compare-report=report.json",
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=2, failed=1)
    tests = json.loads((pytester.path / "report.json").read_text())["tests"]
    refused = [c.get("refused_by_budget", False) for calls in tests.values() for c in calls]
    assert sorted(refused) == [False, False, True], tests
    result.stdout.fnmatch_lines(
        [
            "apirec compare: 2 live calls compared: 2 same; "
            "1 call refused by the record budget (not made)"
        ]
    )


def test_the_compare_reports_file_is_relative_to_the_rootdir(pytester):
    recorded(pytester, 1)
    result = pytester.runpytest(
        "--apirec-mode=compare",
        "--apirec-compare-report=report.json",
        "--rootdir",
        str(pytester.path),
    )
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "report.json").read_text())
    (call,) = report["tests"]["test_calls.py::test_0"]
    assert call["file"].startswith("recordings/"), call["file"]
    assert (pytester.path / call["file"]).is_file()


def test_ls_help_names_every_column(capsys):
    assert main(["ls", "--help"]) == 0
    about = capsys.readouterr().out.split("\n\n")[1]  # the line after the usage
    assert "tokens" in about and "took" in about, about


def test_the_docs_list_every_option_the_marker_takes():
    import re
    from pathlib import Path

    from apirec.pytest.plugin import MARKER_OPTIONS

    text = " ".join((Path(__file__).parents[1] / "docs" / "pytest.md").read_text().split())
    marker = r"The marker takes the options of `apirec\.recording\(\)` \(([^)]*)\)"
    (listed,) = re.findall(marker, text)
    names = set(re.findall(r"`(\w+)`", listed))
    assert names == set(MARKER_OPTIONS), set(MARKER_OPTIONS) ^ names
