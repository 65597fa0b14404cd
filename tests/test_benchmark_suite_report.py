"""``benchmarks/suite.py`` and ``benchmarks/startup.py`` judge a target by the median of the
rounds' paired differences (a round's run minus the same round's baseline run) and its
interval: ``met`` when all of it is within the target, ``NO`` when all of it is above,
``unsure`` otherwise, never by half the range of the runs (which grows with the runs); and
``--quick`` does not silently override ``--runs`` (review of issue 19). The tables are fed
runs made up here: no speed is measured or asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .benchmark_helpers import load_benchmark

SUITE = Path(__file__).parent.parent / "benchmarks" / "suite.py"


@pytest.fixture(scope="module")
def suite():
    return load_benchmark("suite.py")


def _runs(suite, walls: list[float], rests: list[float] | None = None):
    rests = rests or [5.0] * len(walls)
    return [suite.Run(wall, wall, rest, rest) for wall, rest in zip(walls, rests, strict=True)]


def _table_row(suite, capsys, runs) -> list[str]:
    """The cells of the wall-clock table's openai row against canned."""
    suite.report(runs, 300)
    wall = capsys.readouterr().out.split("wall-clock time:")[1]
    return next(line for line in wall.splitlines() if "canned SDK" in line).split()


def _openai_row(suite, capsys, canned: list[float], openai: list[float]) -> list[str]:
    runs = {"canned": _runs(suite, canned), "openai": _runs(suite, openai)}
    return _table_row(suite, capsys, runs)


def test_the_cost_per_test_is_the_median_of_each_rounds_difference(suite, capsys):
    # whole runs, a round's openai minus the same round's canned: -0.57, +0.33, +0.54 s, so
    # -1.9, +1.1, +1.8 ms/test (the sides' medians would say 10.60 - 10.36 s: +0.8 ms/test);
    # after the first test: -0.598, +0.299, +0.299 s over 299 tests (the medians' say 0)
    runs = {
        "canned": _runs(suite, [10.87, 10.27, 10.36], [5.598, 5.0, 5.299]),
        "openai": _runs(suite, [10.30, 10.60, 10.90], [5.0, 5.299, 5.598]),
    }
    cells = _table_row(suite, capsys, runs)
    assert cells[-9:] == ["+1.100", "-1.900..+1.800", "1.02x",
                          "+1.000", "-2.000..+1.000", "1.00x", "<=", "+0.6", "unsure"]  # fmt: skip
    suite.report(runs, 300)
    assert capsys.readouterr().out.endswith("more runs narrow it (--runs N)\n")


def test_a_steady_cost_is_judged_however_wide_the_runs_spread(suite, capsys):
    # the runs spread over 2 s (half the range called this noise), each round +0.09 s
    row = _openai_row(suite, capsys, [10.0, 11.0, 12.0], [10.09, 11.09, 12.09])
    assert row[-9:-6] == ["+0.300", "+0.300..+0.300", "1.01x"] and row[-1] == "met"


def test_a_cost_below_zero_is_met_and_above_the_goal_is_no(suite, capsys):
    assert _openai_row(suite, capsys, [10.0, 10.3, 10.1], [9.9, 10.25, 10.0])[-1] == "met"
    assert _openai_row(suite, capsys, [10.0, 10.01, 10.02], [11.0, 11.01, 11.02])[-1] == "NO"


def test_each_table_says_how_sure_its_interval_is_and_what_the_verdict_judges(suite, capsys):
    runs = {"canned": _runs(suite, [10.0] * 15), "openai": _runs(suite, [10.1] * 15)}
    suite.report(runs, 300)
    out = capsys.readouterr().out
    assert out.count("the verdict judges ms/test (the whole run)") == 2
    assert out.count("the 4th smallest to the 4th largest of the 15 paired") == 2
    assert out.count("actual coverage 96.5%") == 2
    assert "+-" not in out and "unsure: the interval straddles" not in out
    runs = {"canned": _runs(suite, [10.0] * 3), "openai": _runs(suite, [10.1] * 3)}
    suite.report(runs, 300)
    assert capsys.readouterr().out.count("too few for 95% (6 or more needed)") == 2


def test_quick_and_runs_together_is_an_error():
    out = subprocess.run(
        [sys.executable, str(SUITE), "--quick", "--runs", "5"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "--quick" in out.stderr, out.stderr


def test_runs_below_one_are_an_error_in_both_scripts():
    for script in (SUITE, STARTUP):
        out = subprocess.run([sys.executable, str(script), "--runs", "0"], capture_output=True,
                             text=True)  # fmt: skip
        assert out.returncode == 2 and "--runs must be 1 or more" in out.stderr, out.stderr


STARTUP = SUITE.parent / "startup.py"


@pytest.fixture(scope="module")
def startup():
    return load_benchmark("startup.py")


def _startup_lines(startup, capsys, plugin, bare) -> tuple[str, list[list[str]]]:
    startup.report([("pytest -q, one test", "with the plugin", "-p no:apirec", plugin, bare,
                     15.0)], len(plugin.walls))  # fmt: skip
    out = capsys.readouterr().out
    return out, [line.split() for line in out.splitlines() if " +15 " in line]


def test_startup_pairs_each_round_on_both_clocks_with_an_interval_and_a_verdict(startup, capsys):
    # wall, a round's plugin run minus the same round's bare run: -30, +52, +17 (the sides'
    # medians would say 352 - 343 = +9); CPU: +10, +11, +12
    plugin = startup.Side(walls=[350.0, 352.0, 360.0], cpus=[200.0, 201.0, 202.0])
    bare = startup.Side(walls=[380.0, 300.0, 343.0], cpus=[190.0, 190.0, 190.0])
    out, (wall, cpu) = _startup_lines(startup, capsys, plugin, bare)
    assert wall[-6:] == ["352.0", "343.0", "+17.0", "-30.0..+52.0", "+15", "unsure"], wall
    assert cpu[-6:] == ["201.0", "190.0", "+11.0", "+10.0..+12.0", "+15", "met"], cpu
    assert "verdict: the interval on that line's clock against the target" in out
    assert "only 3 rounds, too few for 95%" in out and "coverage only 75.0%" in out
    assert "unsure: the interval straddles the target; more runs narrow it" in out
    assert "+-" not in out


def test_startup_says_no_only_when_the_whole_interval_is_above_the_target(startup, capsys):
    plugin = startup.Side(walls=[330.0, 331.0, 340.0, 329.0, 345.0, 333.0],
                          cpus=[216.0, 230.0, 200.0, 220.0, 214.0, 290.0])  # fmt: skip
    bare = startup.Side(walls=[300.0] * 6, cpus=[200.0] * 6)
    out, (wall, cpu) = _startup_lines(startup, capsys, plugin, bare)
    assert wall[-4:] == ["+32.0", "+29.0..+45.0", "+15", "NO"], wall
    assert cpu[-4:] == ["+18.0", "+0.0..+90.0", "+15", "unsure"], cpu
    assert "actual coverage 96.9%" in out


def test_the_command_line_table_pairs_each_command_with_the_same_rounds_import(startup, capsys):
    def side(walls, cpus):
        return startup.Side(walls=walls, cpus=cpus)

    sides = [
        side([120.0, 100.0, 110.0], [60.0, 61.0, 62.0]),  # apirec --help
        side([130.0, 125.0, 140.0], [70.0, 70.0, 70.0]),  # apirec ls
        side([90.0, 110.0, 100.0], [50.0, 50.0, 50.0]),  # import apirec
        side([20.0, 20.0, 20.0], [10.0, 10.0, 10.0]),  # pass
    ]
    startup.cli_table(["apirec --help", "apirec ls DIR"], sides, 3)
    out = capsys.readouterr().out
    help_row = next(line for line in out.splitlines() if line.startswith("apirec --help"))
    # wall: +30, -10, +10 against the same round's import (the medians: 110 - 100 = +10)
    assert help_row.split()[2:] == ["110.0", "+10.0", "-10.0..+30.0", "1.10x", "5.50x",
                                    "61.0", "+11.0", "+10.0..+12.0"]  # fmt: skip
    assert "too few for 95%" in out


def test_startups_store_is_made_by_the_python_measured_not_this_one(startup, tmp_path, monkeypatch):
    # --python PATH measures another environment, maybe the only one with apirec in it: the
    # command line's store of 20 recordings was made by importing apirec here, and crashed
    import sys

    monkeypatch.setitem(sys.modules, "apirec", None)  # no apirec in this interpreter
    startup._small_store(tmp_path / "recordings", sys.executable)  # another one has it
    assert len(list((tmp_path / "recordings").glob("*.json"))) == 20
