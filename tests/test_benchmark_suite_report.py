"""``benchmarks/suite.py`` judges apirec's cost per test only where the runs can tell: a cost
within the runs' spread, or below zero, is reported as noise, not as the goal met; and
``--quick`` does not silently override ``--runs`` (review of issue 19). The tables are fed
runs made up here: no speed is measured or asserted."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).parent.parent / "benchmarks" / "suite.py"


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("apirec_benchmark_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _goal_cell(suite, capsys, canned: list[float], openai: list[float]) -> str:
    runs = {
        "canned": [suite.Run(w, w, w, w) for w in canned],
        "openai": [suite.Run(w, w, w, w) for w in openai],
    }
    suite.report(runs, 300)
    rows = [line for line in capsys.readouterr().out.splitlines() if "canned SDK" in line]
    return rows[0].split()[-1]  # the wall-clock table's openai row


def test_a_negative_cost_is_noise_not_the_goal_met(suite, capsys):
    assert _goal_cell(suite, capsys, [10.0, 10.3, 10.1], [10.0, 10.05, 9.9]) == "noise"


def test_a_cost_within_the_spread_is_noise(suite, capsys):
    # +0.3 ms/test, but the runs spread over 0.5 s (1.7 ms/test)
    assert _goal_cell(suite, capsys, [10.0, 10.5, 11.0], [10.6, 10.59, 10.2]) == "noise"


def test_a_cost_out_of_the_spread_is_judged(suite, capsys):
    assert _goal_cell(suite, capsys, [10.0, 10.01, 10.02], [10.1, 10.11, 10.12]) == "yes"
    assert _goal_cell(suite, capsys, [10.0, 10.01, 10.02], [11.0, 11.01, 11.02]) == "NO"


def test_quick_and_runs_together_is_an_error():
    out = subprocess.run(
        [sys.executable, str(SUITE), "--quick", "--runs", "5"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "--quick" in out.stderr, out.stderr
