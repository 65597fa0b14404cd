"""Review 21: compare mode (--apirec-mode=compare) and its report, where the docs promise more
than the run gives.

docs/staying-true.md, "Compare": every call is reported per test with its `outcome` (`same`,
`content`, `structure`, `new`, `transient`, `not compared` for an error raised before any
answer), the stored `file`, the `differences`, the text `similarity` and the two `ledger`s.
docs/pytest.md, "A budget for recording": the summary reports the spend; compare "respects the
budget" (issue 21, point 6).
"""

from __future__ import annotations

import json

import pytest

from .test_plugin_budget import project

EVERY_CALL = {"outcome", "file", "differences", "similarity", "ledger"}


def recorded(pytester, count: int = 3):
    project(pytester, count)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=count)
    return pytester


def report(pytester, name: str = "report.json") -> dict:
    return json.loads((pytester.path / name).read_text())


def summary(result) -> str:
    return next(line for line in result.outlines if line.startswith("apirec: "))


def test_a_call_the_budget_refused_is_reported_not_compared(pytester):
    recorded(pytester)
    result = pytester.runpytest(
        "--apirec-mode=compare",
        "--apirec-record-budget=2k",  # 1,500 tokens a call: the third is refused
        "--apirec-compare-report=report.json",
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=2, failed=1)
    data = report(pytester)
    outcomes = {test: [call["outcome"] for call in calls] for test, calls in data["tests"].items()}
    assert outcomes.get("test_calls.py::test_2") == ["not compared"], outcomes
    assert data["totals"]["not compared"] == 1


def test_a_compare_run_with_a_budget_says_what_it_spent(pytester):
    recorded(pytester)
    result = pytester.runpytest(
        "--apirec-mode=compare", "--apirec-record-budget=2k", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2, failed=1)
    line = summary(result)
    assert "3.0k tokens" in line and "of the 2k budget" in line, line


def test_a_call_the_budget_refused_is_not_counted_live(pytester):
    recorded(pytester)
    result = pytester.runpytest(
        "--apirec-mode=compare", "--apirec-record-budget=2k", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2, failed=1)
    assert " 2 live" in summary(result), summary(result)


def test_every_call_in_the_report_has_the_documented_fields(pytester, monkeypatch):
    recorded(pytester, 1)
    # one more call than was recorded: the second is new
    pytester.makepyfile(
        test_calls="""
import llm
def test_0(apirec):
    assert llm.chat("question 0")["text"] == "QUESTION 0"
    assert llm.chat("question 0")["text"] == "QUESTION 0"
"""
    )
    result = pytester.runpytest("--apirec-mode=compare", "--apirec-compare-report=report.json")
    result.assert_outcomes(passed=1)
    calls = report(pytester)["tests"]["test_calls.py::test_0"]
    assert [call["outcome"] for call in calls] == ["same", "new"]
    for call in calls:
        assert set(call) >= EVERY_CALL, (call["outcome"], sorted(EVERY_CALL - set(call)))


def test_a_report_path_that_cannot_be_written_is_a_clear_error(pytester):
    recorded(pytester, 1)
    (pytester.path / "reports").mkdir()
    result = pytester.runpytest("--apirec-mode=compare", "--apirec-compare-report=reports")
    assert result.ret != pytest.ExitCode.INTERNAL_ERROR
    assert "--apirec-compare-report" in "\n".join(result.outlines + result.errlines)
