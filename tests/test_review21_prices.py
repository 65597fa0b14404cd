"""Review 21: price tables (--apirec-prices, apirec stats --prices) that are not what the docs
describe must be refused with a clear error naming the file, never priced as they stand.

docs/pytest.md ("What replay saved"): the table is "a TOML or JSON table of dollars per million
input and output tokens, per model"; the project's rule: bad input gives a clear error naming
what and where. Prices that are not finite and non-negative numbers are not dollars: a NaN price
makes every dollar budget pass (NaN compares false), a negative one makes recording earn money.
"""

from __future__ import annotations

import json

import pytest

import apirec
from apirec.cli.app import main

from .test_plugin_budget import project, summary


def budget_run(pytester, table: str, name: str = "prices.toml"):
    project(pytester, 4, ini=f"apirec_prices = {name}")
    pytester.path.joinpath(name).write_text(table)
    # 1,200 input tokens per call: at $1,000 per million, $1.20 a call, over a $1 budget
    return pytester.runpytest(
        "--apirec-mode=record", "--apirec-record-budget=$1", "-p", "no:randomly"
    )


def test_a_json_price_table_that_is_a_list_is_a_usage_error(pytester):
    result = budget_run(pytester, json.dumps([{"gpt-4o": {"input": 1000, "output": 0}}]), "p.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini apirec_prices: *p.json*"])


def test_stats_with_a_price_table_that_is_a_list_says_what_is_wrong(tmp_path, capsys):
    (tmp_path / "recordings").mkdir()
    prices = tmp_path / "prices.json"
    prices.write_text("[1, 2]")
    code = main(["stats", str(tmp_path / "recordings"), "--prices", str(prices)])
    assert code == 2
    assert "prices.json" in capsys.readouterr().err


def test_a_nan_price_is_refused_not_a_budget_that_never_runs_out(pytester):
    result = budget_run(pytester, "[gpt-4o]\ninput = nan\noutput = 0\n")
    assert "$nan" not in "\n".join(result.outlines)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, summary(result)
    result.stderr.fnmatch_lines(["*ini apirec_prices: *prices*prices.toml*gpt-4o*"])


def test_a_negative_price_is_refused(pytester):
    result = budget_run(pytester, "[gpt-4o]\ninput = -1000\noutput = 0\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, summary(result)
    result.stderr.fnmatch_lines(["*ini apirec_prices: *prices*prices.toml*gpt-4o*"])


def test_stats_json_is_valid_json_whatever_the_prices(tmp_path, capsys):
    @apirec.record(name="llm.chat")
    def chat(prompt: str) -> dict:
        return {"model": "gpt-4o", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}

    with apirec.recording(tmp_path / "recordings", mode="record"):
        chat("hi")
    prices = tmp_path / "prices.toml"
    prices.write_text("[gpt-4o]\ninput = nan\noutput = 1\n")
    code = main(["stats", str(tmp_path / "recordings"), "--prices", str(prices), "--json"])
    out = capsys.readouterr().out
    if code == 0:  # refusing the table (exit 2) is right too; printing NaN is not
        json.loads(out, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    else:
        assert code == 2


def test_a_price_row_with_keys_apirec_does_not_read_is_refused(pytester):
    table = "[gpt-4]\ninput = 30\noutput = 60\n\n[gpt-4.1]\ninput = 2\noutput = 8\n"
    result = budget_run(pytester, table)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, summary(result)
    result.stderr.fnmatch_lines(["*ini apirec_prices: *prices*prices.toml*"])


def test_an_empty_price_table_with_a_dollar_budget_names_the_table(pytester):
    result = budget_run(pytester, "# prices to come\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert "prices.toml" in errors, errors
    assert "give the prices too" not in errors, errors
