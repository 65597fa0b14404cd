"""Review 21: the record budget (--apirec-record-budget) where what was spent is not known, and
where the bad value came from.

docs/pytest.md, "A budget for recording": once the answers the run recorded have spent the
budget, the next live call is refused; a dollar budget refuses once an answer's cost is not
known ("the budget cannot be kept"). The project's rule: nothing silent, and bad input gives a
clear error naming what and where.
"""

from __future__ import annotations

import re

import pytest

from .plugin_helpers import setup
from .test_plugin_budget import project

# An openai stream without stream_options={"include_usage": True}: the provider reports no
# usage at all, so its tokens are not known (about 300 words are streamed back per call).
STREAMS = """
import os, openai, pytest

def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0)

@pytest.mark.parametrize("n", range(4))
@pytest.mark.apirec(integrations=["openai"])
def test_stream(n):
    stream = client().chat.completions.create(
        model="gpt-4o", stream=True,
        messages=[{"role": "user", "content": f"tell me a long story number {n} " * 50}],
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
"""


def test_a_token_budget_is_not_silently_kept_by_answers_without_usage(
    pytester, monkeypatch, openai_server
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester)
    pytester.makepyfile(test_streams=STREAMS)
    result = pytester.runpytest(
        "--apirec-mode=record", "--apirec-record-budget=100", "-p", "no:randomly"
    )
    line = next(line for line in result.outlines if line.startswith("apirec: "))
    refused = result.parseoutcomes().get("failed", 0) > 0
    said = re.search(r"unknown|no usage|not reported|not known|without usage", line)
    assert refused or said, line


@pytest.mark.parametrize("where", ["environment", "ini"])
def test_a_bad_budget_names_where_it_came_from(pytester, monkeypatch, where):
    if where == "environment":
        project(pytester, 1)
        monkeypatch.setenv("APIREC_RECORD_BUDGET", "lots")
        name = "APIREC_RECORD_BUDGET"
    else:
        project(pytester, 1, ini="apirec_record_budget = lots")
        name = "apirec_record_budget"
    result = pytester.runpytest("--apirec-mode=record")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert name in "\n".join(result.errlines), result.errlines


# The code under test falls back when a call fails, as agent loops do (``except Exception``).
SWALLOWING = """
import llm

def ask(prompt):
    try:
        return llm.chat(prompt)["text"]
    except Exception:
        return "fallback"

def test_0(apirec):
    assert ask("a")

def test_1(apirec):
    assert ask("b")

def test_2(apirec):
    assert ask("c")
"""


def test_a_refused_call_the_code_under_test_swallows_still_fails_its_test(pytester):
    project(pytester, 0)
    pytester.makepyfile(test_calls=SWALLOWING)
    result = pytester.runpytest(
        "--apirec-mode=record", "--apirec-record-budget=2k", "-p", "no:randomly"
    )
    # 1,500 tokens a call: test_2's call is refused
    assert len(list((pytester.path / "recordings").glob("*.json"))) == 2
    assert result.ret != pytest.ExitCode.OK
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) >= 1, outcomes


def test_a_dollar_budget_the_shell_expanded_says_to_quote_it(pytester):
    project(pytester, 1, ini="apirec_prices = prices.toml")
    pytester.path.joinpath("prices.toml").write_text("[gpt-4o]\ninput = 1\noutput = 1\n")
    # what `pytest --apirec-record-budget=$2.50` passes from bash or zsh (no $2 set)
    result = pytester.run(
        "bash", "-c", 'echo "$0" --apirec-record-budget=$2.50', "pytest"
    )  # the shell's own expansion, shown
    assert result.outlines == ["pytest --apirec-record-budget=.50"]
    result = pytester.runpytest("--apirec-mode=record", "--apirec-record-budget=.50")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert re.search(r"quote|shell", errors), errors
