"""`apirec prune --usage` and recordings `--apirec-rekey` moved after a report was written: the
report never saw their new key, so it cannot call them unused. A move stamps ``moved_at``
(their ``recorded_at`` stays, and is older than the report), and prune keeps them. Through the
real plugin, for a change of key rules and for a renamed (merged) test, JSON and msgpack."""

import datetime as dt
import json
import shutil

import pytest

from apirec.keys.spec import compute_key

from .plugin_helpers import setup
from .test_usage_prune import _backdate, _cli

# RULES=new: b is left out of the key (every key of demo.add changes)
PROVIDER = """
import os
import apirec

@apirec.record(name="demo.add", ignore=["b"] if os.environ.get("RULES") == "new" else [])
def add(a, b=1):
    return {"sum": a + b}
"""

# MERGED=1: test_old is gone, its call now made by test_new (which already ran, without it)
TEST = """
import os
import moves_provider as p

if os.environ.get("MERGED") != "1":
    def test_old(apirec):
        assert p.add(2, b=3) == {"sum": 5}

def test_new(apirec):
    assert p.add(4) == {"sum": 5}
    if os.environ.get("MERGED") == "1":
        assert p.add(2, b=3) == {"sum": 5}

def test_steady(apirec):
    assert p.add(7) == {"sum": 8}
"""


def _in_place(pytester, to):
    """Convert the store in recordings/ to ``to``, in place (same directory, as the reports
    name it)."""
    done = _cli(pytester.path, "convert", "recordings", "converted", "--to", to)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(pytester.path / "recordings")
    (pytester.path / "converted").rename(pytester.path / "recordings")


def _recorded_before_the_report(pytester, monkeypatch, store):
    """Recorded two days ago; the report of a run of today (it uses every recording)."""
    setup(pytester)
    pytester.makepyfile(moves_provider=PROVIDER, test_moves=TEST)
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=3)
    _backdate(pytester.path / "recordings", days=2)
    if store == "msgpack":
        _in_place(pytester, "msgpack")
    result = pytester.runpytest(f"--apirec-store={store}", "--apirec-usage=u.json")
    result.assert_outcomes(passed=3)
    report = json.loads((pytester.path / "u.json").read_text())
    assert "test_moves.py::test_new" in report["ran_in_full"]
    return dt.datetime.fromisoformat(report["started_at"])


def _prune(pytester, store, moved_key, started):
    """Prune with the report written before the move: the moved recording stays."""
    if store == "msgpack":
        _in_place(pytester, "json")  # prune reads JSON stores
    moved = pytester.path / "recordings" / f"{moved_key}.json"
    entry = json.loads(moved.read_text())
    assert dt.datetime.fromisoformat(entry["recorded_at"]) < started  # as old as it was
    done = _cli(pytester.path, "prune", "recordings", "--usage", "u.json")
    assert done.returncode == 0, done.stderr
    assert moved.exists(), done.stdout
    assert f"kept recordings/{moved_key}.json" in done.stdout
    assert "deleted 0 recordings" in done.stdout
    # when it got its key, beside recorded_at
    assert dt.datetime.fromisoformat(entry["moved_at"]) >= started.replace(microsecond=0)
    assert list(entry).index("moved_at") == list(entry).index("recorded_at") + 1


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_a_recording_moved_to_its_key_under_new_rules_after_the_report_stays(
    pytester, monkeypatch, store
):
    started = _recorded_before_the_report(pytester, monkeypatch, store)
    monkeypatch.setenv("RULES", "new")
    result = pytester.runpytest(f"--apirec-store={store}", "--apirec-rekey")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*moved 1 recording made under older key rules*"])
    moved_key = compute_key("demo.add", {"a": 2}, "test_moves.py::test_old")
    _prune(pytester, store, moved_key, started)
    if store == "msgpack":
        _in_place(pytester, "msgpack")
    pytester.runpytest(f"--apirec-store={store}").assert_outcomes(passed=3)


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_a_recording_moved_to_a_merged_test_after_the_report_stays(pytester, monkeypatch, store):
    """The report ran test_new in full (without that call then); test_old's call moved into it
    since, and --apirec-rekey gave it test_new's key."""
    started = _recorded_before_the_report(pytester, monkeypatch, store)
    monkeypatch.setenv("MERGED", "1")
    result = pytester.runpytest(f"--apirec-store={store}", "--apirec-rekey")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_moves.py::test_old -> test_moves.py::test_new: 1 file*"])
    moved_key = compute_key("demo.add", {"a": 2, "b": 3}, "test_moves.py::test_new")
    _prune(pytester, store, moved_key, started)
    if store == "msgpack":
        _in_place(pytester, "msgpack")
    pytester.runpytest(f"--apirec-store={store}").assert_outcomes(passed=2)
