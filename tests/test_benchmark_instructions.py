"""``benchmarks/instructions.py``: two commands' instruction counts turned into milliseconds at
the baseline's pace, and the verdict against a target. The counts are made up here (and a
stand-in ``valgrind`` prints one): no speed is measured or asserted."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from .benchmark_helpers import load_benchmark


@pytest.fixture(scope="module")
def instructions():
    return load_benchmark("instructions.py")


def test_the_extra_instructions_cost_the_baselines_time_per_instruction(instructions) -> None:
    # 7% more instructions than a baseline that took 200 ms: 14 ms at its pace
    counted = instructions.Counted(ours=1_070_000_000, baseline=1_000_000_000, baseline_cpu_ms=200)
    assert counted.extra == 70_000_000
    assert counted.extra_ms == pytest.approx(14.0)
    cells = counted.cells(15.0).split()
    assert cells == ["1070.0M", "1000.0M", "+70.0M", "+7.0%", "+14.0", "+15", "met"]
    assert len(instructions.HEADER) == len(counted.cells(15.0))  # the columns line up


def test_more_than_the_target_is_not_met(instructions) -> None:
    counted = instructions.Counted(ours=1_080_000_000, baseline=1_000_000_000, baseline_cpu_ms=200)
    assert counted.cells(15.0).split()[-2:] == ["+15", "NO"]  # 16 ms


def test_the_count_is_the_median_of_valgrinds_runs(instructions, tmp_path, monkeypatch) -> None:
    # a stand-in valgrind: prints the next count of its list as callgrind ends with (the
    # warm-up runs the command itself, outside valgrind)
    counts = tmp_path / "counts"
    counts.write_text("300\n100\n200\n")
    fake = tmp_path / "valgrind"
    fake.write_text(
        "#!/bin/sh\n"
        f'n=$(head -n 1 "{counts}"); sed -i 1d "{counts}"\n'
        'echo "==1== Collected : $n" >&2\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert instructions.available()
    env = dict(os.environ)
    assert instructions.count([sys.executable, "-c", "pass"], tmp_path, env, 3) == 200


def test_a_run_valgrind_could_not_count_says_so(instructions, tmp_path, monkeypatch) -> None:
    fake = tmp_path / "valgrind"
    fake.write_text("#!/bin/sh\necho 'valgrind: failed to start tool' >&2\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RuntimeError, match="failed to start tool"):
        instructions.count([sys.executable, "-c", "pass"], tmp_path, dict(os.environ), 1)
