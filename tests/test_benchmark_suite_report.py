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


def test_both_columns_carry_their_spread_and_the_verdict_says_what_it_judges(suite, capsys):
    runs = {
        "canned": [suite.Run(10.0, 5.0, 9.0, 4.0), suite.Run(10.3, 5.0, 9.0, 4.6)],
        "openai": [suite.Run(10.6, 5.0, 9.3, 4.0), suite.Run(10.6, 5.0, 9.6, 4.0)],
    }
    suite.report(runs, 301)
    out = capsys.readouterr().out
    assert out.count("the verdict judges ms/test (the whole run)") == 2
    wall = out.split("wall-clock time:")[1]
    row = next(line for line in wall.splitlines() if "canned SDK" in line).split()
    # whole: (0.15 + 0) s spread / 301; after the first test: (0 + 0.15) s / 300
    assert row[-9:] == ["+1.495", "0.498", "1.04x", "+1.500", "0.500", "1.05x", "<=", "+0.6", "NO"]


STARTUP = SUITE.parent / "startup.py"


@pytest.fixture(scope="module")
def startup():
    spec = importlib.util.spec_from_file_location("apirec_benchmark_startup", STARTUP)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_startup_prints_cpu_beside_wall_with_spread_and_a_verdict(startup, capsys):
    plugin = startup.Side(walls=[350.0, 352.0, 360.0], cpus=[200.0, 201.0, 202.0])
    bare = startup.Side(walls=[300.0, 343.0, 380.0], cpus=[190.0, 190.0, 190.0])
    startup.report([("pytest -q, one test", "with the plugin", "-p no:apirec", plugin, bare,
                     15.0)], 3)  # fmt: skip
    out = capsys.readouterr().out
    wall, cpu = (line.split() for line in out.splitlines() if " +15 " in line)
    assert wall[-6:] == ["352.0", "343.0", "+9.0", "45.0", "+15", "noise"], wall  # 9 +- 45
    assert cpu[-6:] == ["201.0", "190.0", "+11.0", "1.0", "+15", "met"], cpu
    assert "verdict: the difference of the medians on that line's clock" in out


def test_startup_verdict_is_no_only_beyond_the_spread(startup):
    assert startup.verdict(30.0, 5.0, 15.0) == "NO"
    assert startup.verdict(18.0, 5.0, 15.0) == "noise"
    assert startup.verdict(-60.0, 5.0, 40.0) == "met"
