"""A budget for recording: --apirec-record-budget (issue 21, point 4)."""

from __future__ import annotations

import pytest

from .plugin_helpers import INI

# Each call reports 1,500 tokens (1,200 in, 300 out), as a provider would.
LLM = """
import apirec

calls = []

@apirec.record(name="llm.chat")
def chat(prompt, model="gpt-4o"):
    calls.append(prompt)
    return {"model": model, "text": prompt.upper(),
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}
"""
TESTS = """
import llm
{tests}
"""
TEST = """
def test_{n}(apirec):
    assert llm.chat("question {n}")["text"] == "QUESTION {n}"
"""


def project(pytester, count: int, ini: str = "") -> None:
    pytester.makeini(INI.format(extra=ini + "\npythonpath = ."))
    pytester.makepyfile(
        llm=LLM, test_calls=TESTS.format(tests="".join(TEST.format(n=n) for n in range(count)))
    )


def summary(result) -> str:
    return next(line for line in result.outlines if line.startswith("apirec: "))


def test_live_calls_past_the_budget_fail_before_they_are_made(pytester):
    project(pytester, 3)
    result = pytester.runpytest(
        "--apirec-mode=record", "--apirec-record-budget=2k", "-p", "no:randomly"
    )
    # 1,500 spent after the first call, 3,000 after the second: the third is refused
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*BudgetExceeded: llm.chat() was not called: the live calls of this run have spent "
            "3.0k tokens of the record budget of 2k*"
        ]
    )
    assert len(list((pytester.path / "recordings").glob("*.json"))) == 2  # nothing half-written
    line = summary(result)
    assert "2 recorded" in line and "recording spent" in line and "3.0k tokens" in line
    assert "of the 2k budget" in line, line


def test_a_dollar_budget_prices_the_spend(pytester):
    project(pytester, 3, ini="apirec_prices = prices.toml")
    pytester.path.joinpath("prices.toml").write_text("[gpt-4o]\ninput = 1000\noutput = 0\n")
    # 1,200 input tokens at $1,000 per million: $1.20 per call
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=$2")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*spent $2.40 of the record budget of $2*"])
    assert "($2.40) of the $2 budget" in summary(result)


def test_the_budget_from_the_environment(pytester, monkeypatch):
    project(pytester, 2)
    monkeypatch.setenv("APIREC_RECORD_BUDGET", "1")
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=1, failed=1)


def test_a_replay_spends_nothing_of_the_budget(pytester):
    project(pytester, 3)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=3)
    result = pytester.runpytest("--apirec-record-budget=1")
    result.assert_outcomes(passed=3)
    assert "recording spent" not in summary(result)


@pytest.mark.parametrize("budget", ["$2", "lots", "2kk"])
def test_a_budget_apirec_cannot_read_is_a_usage_error(pytester, budget):
    project(pytester, 1)
    result = pytester.runpytest(f"--apirec-record-budget={budget}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--apirec-record-budget*"])


def test_workers_share_one_budget(pytester):
    project(pytester, 4)
    result = pytester.runpytest_subprocess(
        "-n", "2", "--apirec-mode=record", "--apirec-record-budget=2k"
    )
    # one budget for the run: at most the calls that started before 2,000 were spent pass;
    # with a budget per worker, each would have made two calls and all four would pass
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 4


def test_a_compare_run_spends_the_budget_too(pytester):
    project(pytester, 3)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=3)
    result = pytester.runpytest("--apirec-mode=compare", "--apirec-record-budget=2k")
    # every compare call goes live: the third is refused as a recording run's would be
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*BudgetExceeded*record budget of 2k*"])


def test_a_live_run_is_held_to_the_budget(pytester):
    """The budget caps the live calls of a run (issue 21), a run in live mode's too: it stores
    nothing, but its calls spend as a recording run's do."""
    project(pytester, 3)
    result = pytester.runpytest(
        "--apirec-mode=live", "--apirec-record-budget=2k", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*BudgetExceeded: llm.chat() was not called*"])
    assert not (pytester.path / "recordings").exists()
    line = summary(result)
    assert "live calls spent" in line and "3.0k tokens of the 2k budget" in line, line
    assert "1 call refused by the budget" in line, line


def test_a_live_run_with_no_budget_still_calls_straight_through(pytester):
    project(pytester, 3)
    result = pytester.runpytest("--apirec-mode=live")
    result.assert_outcomes(passed=3)
    assert "spent" not in summary(result)


LLM_WITH_A_HANDLE = """
import apirec, threading

@apirec.record(name="llm.chat")
def chat(prompt, lock):
    return {"text": prompt.upper(), "usage": {"prompt_tokens": 1200, "completion_tokens": 300}}
"""


def test_a_live_run_under_a_budget_calls_with_arguments_no_key_could_be_made_of(pytester):
    """Live mode stores nothing, so nothing is keyed: a lock (which no key can be made of)
    goes through to the live call under a budget as it does without one, and is counted."""
    pytester.makeini(INI.format(extra="pythonpath = ."))
    pytester.makepyfile(
        llm=LLM_WITH_A_HANDLE,
        test_handle="""
import threading, llm

def test_it(apirec):
    assert llm.chat("question", threading.Lock())["text"] == "QUESTION"
""",
    )
    result = pytester.runpytest("--apirec-mode=live", "--apirec-record-budget=2k")
    result.assert_outcomes(passed=1)
    assert "1.5k tokens of the 2k budget" in summary(result), summary(result)


SECRET = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk"


def test_the_unpriced_model_named_by_the_budget_passes_the_write_gate(pytester):
    """A proxy that echoes the caller's key as the model name: the dollar budget cannot price
    it and names it in BudgetExceeded; the name is printed through the write gate, as every
    message about a call is."""
    pytester.makeini(INI.format(extra="apirec_prices = prices.toml\npythonpath = ."))
    pytester.path.joinpath("prices.toml").write_text("[gpt-4o]\ninput = 1\noutput = 1\n")
    pytester.makepyfile(
        llm=LLM,
        test_calls=f"""
import llm

def test_calls(apirec):
    for n in range(2):
        llm.chat(f"question {{n}}", model="tenant {SECRET}")
""",
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=$2")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*BudgetExceeded*do not list*<redacted>*"])
    assert SECRET not in result.stdout.str().replace(f'model="tenant {SECRET}"', "")


def test_one_token_is_singular_in_the_summary(pytester):
    pytester.makeini(INI.format(extra="\npythonpath = ."))
    pytester.makepyfile(
        llm=LLM.replace('"prompt_tokens": 1200, "completion_tokens": 300', '"prompt_tokens": 1'),
        test_calls=TESTS.format(tests=TEST.format(n=0)),
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=2k")
    result.assert_outcomes(passed=1)
    assert "and 1 token of the 2k budget" in summary(result), summary(result)
    result = pytester.runpytest()  # the replay saved it
    assert "of live calls and 1 token;" in summary(result), summary(result)
