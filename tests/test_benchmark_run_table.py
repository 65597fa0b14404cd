"""``benchmarks/run.py`` prints its rows so a reader can tell what they say (a new user's review
of issue 19): a "faster" ratio below 1 says how many times slower, the verdict column has a
header, an absolute target says it is one, and section e's sizes are KB, not µs, on stderr and
in ``--json``. The rows are made up here: no speed is measured or asserted."""

from __future__ import annotations

import pytest

from .benchmark_helpers import load_benchmark


@pytest.fixture(scope="module")
def run():
    pytest.importorskip("vcr")  # the bench extra: section f's baseline
    return load_benchmark("run.py")


@pytest.fixture
def bench(run, tmp_path):
    b = run.Bench(quick=True)
    yield b
    import shutil

    shutil.rmtree(b.tmp, ignore_errors=True)


def _cells(table: str, case: str) -> list[str]:
    line = next(line for line in table.splitlines() if case in line)
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_faster_row_below_one_says_how_many_times_slower(run, bench):
    bench.add(run.Row("c. replay hit", "slow", 200.0, "seeds' recorder", 120.0, "(info)"),
              faster_by=0)  # fmt: skip
    bench.add(run.Row("c. replay hit", "fast", 10.0, "seeds' recorder", 120.0, ">= 8x faster"),
              faster_by=8)  # fmt: skip
    table = run.table(bench.rows)
    assert _cells(table, "slow")[4] == "1.7x slower"
    assert _cells(table, "fast")[4:] == ["12.0x faster", ">= 8x faster", "yes"]
    assert "faster" not in _cells(table, "slow")[4]


def test_the_verdict_column_has_a_header(run, bench):
    bench.add(run.Row("a. decorated call", "sync", 0.6, "wrapt", 0.5, "<= 1.5x"), at_most=1.5)
    head = run.table(bench.rows).splitlines()[0]
    assert [cell.strip() for cell in head.strip("|").split("|")][-1] == "verdict"


def test_an_absolute_target_says_so_beside_a_ratio_that_looks_fine(run, bench):
    bench.add(run.Row("b. key", "gated", 22.0, "seeds", 400.0, "< 20 µs"), under_us=20)
    cells = _cells(run.table(bench.rows), "gated")
    assert cells[4:] == ["18.2x faster", "< 20 µs (absolute)", "NO"]


def test_sizes_are_kilobytes_on_stderr_in_the_table_and_in_json(run, bench, capsys):
    bench.add(run.Row("e. bytes on disk", "corpus: msgpack store", 717.05, "JSON store", 7441.68,
                      "<= 10%"), at_most=0.10)  # fmt: skip
    bench.add(run.Row("b. key", "bare", 15.0, "seeds", 160.0, "< 20 µs"), under_us=20)
    err = capsys.readouterr().err
    assert "corpus: msgpack store: 717.05 KB vs 7441.68 KB" in err, err
    assert "b. key bare: 15.00 us vs 160.00 us" in err, err
    cells = _cells(run.table(bench.rows), "corpus")
    assert cells[1].endswith(" KB") and cells[3] == "7,441.7 KB", cells
    sizes, key = (row.as_json() for row in bench.rows)
    assert sizes["apirec_kb"] == 717.05 and sizes["unit"] == "KB" and "apirec_us" not in sizes
    # µs rows keep the keys scripts read before
    assert key["apirec_us"] == 15.0 and key["baseline_us"] == 160.0 and key["unit"] == "µs"
