"""Usage a provider did not report is unknown, never free (issue 21 review, points 1, 3, 4).

Most openai code streams without ``stream_options={"include_usage": True}``: such an answer
names its model and reports no tokens. ``apirec stats`` and the session summary count it apart
(its tokens and cost are unknown, a sum over it is a floor), as they count recordings made
before the ledger; and a compare run says what its live calls spent, with or without a budget.
Through the real openai client against the loopback fake, the real plugin and the real CLI.
"""

from __future__ import annotations

import json

import pytest

from apirec.cli.app import main

from .plugin_helpers import setup

TESTS = """
import os
import openai
import pytest

def client():
    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0)

@pytest.mark.apirec(integrations=["openai"])
def test_stream():
    stream = client().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "tell me more"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.startswith("You")

@pytest.mark.apirec(integrations=["openai"])
def test_chat():
    reply = client().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}]
    )
    assert reply.choices[0].message.content.startswith("You")
"""

PRICES = "[gpt-4o]\ninput = 2.5\noutput = 10\n"


@pytest.fixture
def project(pytester, monkeypatch, openai_server):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester)
    pytester.makepyfile(test_llm=TESTS)
    pytester.path.joinpath("prices.toml").write_text(PRICES)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    return pytester


def summary(result) -> str:
    return next(line for line in result.outlines if line.startswith("apirec: "))


def test_stats_counts_a_stream_without_usage_as_unknown_not_free(project, capsys):
    store, prices = str(project.path / "recordings"), str(project.path / "prices.toml")
    assert main(["stats", store, "--by", "model", "--prices", prices]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    # the stream: a second at most, its tokens and cost unknown, one answer of unknown usage
    assert rows["gpt-4o"][3:] == ["unknown", "unknown", "1", "unknown"], out
    assert rows["gpt-4o-mini"][3:] == ["5", "4", "0", "unpriced"], out
    assert rows["total"][3:] == ["5+", "4+", "1", "unknown"], out
    assert "1 answer of a model that reported no usage" in out, out
    assert main(["stats", store, "--by", "model", "--prices", prices, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unknown_usage"] == 1 and report["cost"] is None, report
    assert report["cost_complete"] is False
    by = {g["name"]: g for g in report["by_model"]}
    assert by["gpt-4o"]["unknown_usage"] == 1 and by["gpt-4o"]["cost"] is None, by
    assert by["gpt-4o-mini"]["unknown_usage"] == 0


def test_stats_of_recordings_made_before_the_ledger_says_unknown(capsys):
    assert main(["stats", "tests/data/llama_stack"]) == 0
    out = capsys.readouterr().out
    (total,) = [line.split() for line in out.splitlines() if line.startswith("total")]
    assert total[1:] == ["221", "unknown", "unknown", "unknown", "221"], out
    assert main(["stats", "tests/data/llama_stack", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unknown"] == report["unknown_usage"] == report["calls"] == 221


def test_the_summary_says_replayed_answers_reported_no_usage(project):
    line = summary(project.runpytest("--apirec-prices=prices.toml"))
    # the chat's 9 tokens are known; the stream's are not, and it is not priced as free
    assert "and 9 tokens (1 answer of unpriced models) (1 answer reported no usage" in line, line


def test_the_summary_names_unpriced_answers_when_none_is_priced(project):
    project.path.joinpath("prices.toml").write_text("[gpt-4-typo]\ninput = 2.5\noutput = 10\n")
    line = summary(project.runpytest("--apirec-prices=prices.toml"))
    assert "and 9 tokens (1 answer of unpriced models)" in line, line


def test_a_compare_run_says_what_its_live_calls_spent_without_a_budget(project):
    result = project.runpytest("--apirec-mode=compare", "--apirec-prices=prices.toml")
    result.assert_outcomes(passed=2)
    line = summary(result)
    assert "; live calls spent " in line and " and 9 tokens" in line, line
    assert "(1 answer reported no usage: tokens unknown)" in line, line
