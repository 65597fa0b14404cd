"""Renamed tests (issue 13 point 5): a replay miss whose call matches the recording of a test
this run did not collect names it; ``--apirec-rekey`` moves such recordings to the new test
and replays them, and the summary lists what moved."""

from __future__ import annotations

import json

import pytest

from apirec.keys.spec import compute_key

from .plugin_helpers import setup

OLD = """
import apirec, pytest
import provider

@pytest.mark.apirec
def {name}(a={a}):
    assert provider.add({a}, b=3) == {{"sum": {a} + 3}}
    assert provider.add({a}, b=3) == {{"sum": {a} + 3}}
    assert provider.add({a} + 5) == {{"sum": {a} + 6}}
    assert provider.models() == ["m1", "m2"]
"""


def recordings(pytester):
    return pytester.path / "recordings"


def by_test(pytester):
    """{test id: sorted file names} of the JSON recordings."""
    found: dict[str | None, list[str]] = {}
    for path in sorted(recordings(pytester).glob("*.json")):
        owner = json.loads(path.read_text())["test_id"]
        found.setdefault(owner, []).append(path.name)
    return found


def record_then_rename(pytester, old="test_old", new="test_new", store="json"):
    setup(pytester)
    pytester.makepyfile(test_calc=OLD.format(name=old, a=2))
    result = pytester.runpytest("--apirec-mode=record", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    pytester.makepyfile(test_calc=OLD.format(name=new, a=2))


def test_a_miss_names_the_recording_of_the_renamed_test(pytester):
    record_then_rename(pytester)
    before = by_test(pytester)
    assert set(before) == {None, "test_calc.py::test_old"}
    result = pytester.runpytest("--apirec-mode=replay")
    result.assert_outcomes(failed=1)
    old_file = compute_key("demo.add", {"a": 2, "b": 3}, "test_calc.py::test_old") + ".json"
    result.stdout.fnmatch_lines(
        [
            "*matches the recording of test_calc.py::test_old, a test this run did not collect*",
            f"*{old_file}*",
            "*--apirec-rekey*",
        ]
    )
    assert by_test(pytester) == before  # a plain replay moves nothing


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_rekey_moves_the_recordings_to_the_new_test_and_replays_them(pytester, store):
    record_then_rename(pytester, store=store)
    before = by_test(pytester)
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*apirec: 4 replayed, 0 recorded, 0 live, 0 missed*",
            "*moved the recordings of 1 renamed test (--apirec-rekey):*",
            "*test_calc.py::test_old -> test_calc.py::test_new: 3 files*",
        ]
    )
    new_key = compute_key("demo.add", {"a": 2, "b": 3}, "test_calc.py::test_new")
    old_key = compute_key("demo.add", {"a": 2, "b": 3}, "test_calc.py::test_old")
    if store == "json":
        after = by_test(pytester)
        assert "test_calc.py::test_old" not in after
        assert after[None] == before[None]  # the shared recording is untouched
        assert f"{new_key}.json" in after["test_calc.py::test_new"]
        assert f"{new_key}.1.json" in after["test_calc.py::test_new"]
        assert len(after["test_calc.py::test_new"]) == 3
        moved = json.loads((recordings(pytester) / f"{new_key}.1.json").read_text())
        assert moved["request"]["key"] == new_key
        assert moved["test_id"] == "test_calc.py::test_new"
        assert not (recordings(pytester) / f"{old_key}.json").exists()
    result.stdout.fnmatch_lines([f"*{old_key}.json -> *{new_key}.json*"])

    # the recordings now belong to the new test: a plain replay passes, and moves nothing
    result = pytester.runpytest("--apirec-mode=replay", f"--apirec-store={store}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*apirec: 4 replayed, 0 recorded, 0 live, 0 missed*"])
    result.stdout.no_fnmatch_line("*moved the recordings*")


def test_several_old_tests_matching_is_reported_not_guessed(pytester):
    setup(pytester)
    pytester.makepyfile(
        test_calc=OLD.format(name="test_one", a=2) + OLD.format(name="test_two", a=2)
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    before = by_test(pytester)
    pytester.makepyfile(test_calc=OLD.format(name="test_new", a=2))
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*matches the recordings of 2 tests this run did not collect*",
            "*test_calc.py::test_one*",
            "*test_calc.py::test_two*",
            "*not moved: apirec cannot tell which one*",
        ]
    )
    result.stdout.no_fnmatch_line("*moved the recordings*")
    assert by_test(pytester) == before


def test_a_test_that_still_exists_is_not_taken_for_a_renamed_one(pytester):
    """Tests of a file left out of the run, or not selected by a node id, were not collected
    but were not renamed either: their recordings stay theirs."""
    setup(pytester)
    pytester.makepyfile(
        test_calc=OLD.format(name="test_old", a=2), test_other=OLD.format(name="test_other", a=2)
    )
    pytester.runpytest("--apirec-mode=record", "test_calc.py").assert_outcomes(passed=1)
    before = by_test(pytester)
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey", "test_other.py")
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*did not collect*")
    pytester.makepyfile(
        test_calc=OLD.format(name="test_old", a=2) + OLD.format(name="test_new", a=2),
    )
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey", "test_calc.py::test_new")
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*did not collect*")
    assert by_test(pytester) == before


def test_a_test_deselected_by_k_still_exists(pytester):
    setup(pytester)
    pytester.makepyfile(test_calc=OLD.format(name="test_old", a=2))
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    before = by_test(pytester)
    pytester.makepyfile(
        test_calc=OLD.format(name="test_old", a=2) + OLD.format(name="test_new", a=2)
    )
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey", "-k", "test_new")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.no_fnmatch_line("*did not collect*")
    assert by_test(pytester) == before


def test_a_renamed_test_file_is_a_rename_too(pytester):
    setup(pytester)
    pytester.makepyfile(test_calc=OLD.format(name="test_old", a=2))
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    (pytester.path / "test_calc.py").rename(pytester.path / "test_sums.py")
    result = pytester.runpytest("--apirec-mode=replay", "--apirec-rekey")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_calc.py::test_old -> test_sums.py::test_old: 3 files*"])


def test_record_if_missing_with_rekey_moves_instead_of_calling(pytester):
    record_then_rename(pytester)
    result = pytester.runpytest("--apirec-mode=record-if-missing", "--apirec-rekey")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*apirec: 4 replayed, 0 recorded, 0 live, 0 missed*",
            "*test_calc.py::test_old -> test_calc.py::test_new: 3 files*",
        ]
    )


def test_record_if_missing_without_rekey_says_what_it_recorded_again(pytester):
    record_then_rename(pytester)
    result = pytester.runpytest("--apirec-mode=record-if-missing")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*apirec: 1 replayed, 3 recorded*",
            "*recorded again calls of 1 test that match the recordings of a test this run "
            "did not collect*",
            "*test_calc.py::test_old -> test_calc.py::test_new (--apirec-rekey moves*",
        ]
    )


def test_rekey_under_xdist_lists_the_moves_of_every_worker(pytester):
    setup(pytester)
    pytester.makepyfile(
        test_calc=OLD.format(name="test_old", a=2),
        test_more=OLD.format(name="test_more_old", a=4),
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    pytester.makepyfile(
        test_calc=OLD.format(name="test_new", a=2),
        test_more=OLD.format(name="test_more_new", a=4),
    )
    result = pytester.runpytest_subprocess("--apirec-mode=replay", "--apirec-rekey", "-n", "2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*moved the recordings of 2 renamed tests (--apirec-rekey):*",
        ]
    )
    result.stdout.fnmatch_lines(["*test_calc.py::test_old -> test_calc.py::test_new: 3 files*"])
    result.stdout.fnmatch_lines(
        ["*test_more.py::test_more_old -> test_more.py::test_more_new: 3 files*"]
    )


def test_record_if_missing_with_rekey_and_several_matches_records_and_says_so(pytester):
    setup(pytester)
    pytester.makepyfile(
        test_calc=OLD.format(name="test_one", a=2) + OLD.format(name="test_two", a=2)
    )
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    before = by_test(pytester)
    pytester.makepyfile(test_calc=OLD.format(name="test_new", a=2))
    result = pytester.runpytest("--apirec-mode=record-if-missing", "--apirec-rekey")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*apirec: 1 replayed, 3 recorded*",
            "*test_calc.py::test_one -> test_calc.py::test_new (several old tests match: "
            "not moved*",
            "*test_calc.py::test_two -> test_calc.py::test_new (several*",
        ]
    )
    after = by_test(pytester)
    assert after["test_calc.py::test_one"] == before["test_calc.py::test_one"]
    assert len(after["test_calc.py::test_new"]) == 3


LAZY_FIXTURE = """
import provider


def {name}(request):
    request.getfixturevalue("apirec")  # asked for at setup: the plugin loads after the collection
    assert provider.add(2, b=3) == {{"sum": 5}}
"""


def test_a_rename_is_named_when_the_test_asks_for_the_fixture_at_run_time(pytester):
    # The plugin kept its own list of the collected tests, registered when it loaded: here at
    # the test's setup, after the collection, so the list was empty, the old test's file still
    # existed, and the miss did not name the renamed test's recording.
    setup(pytester)
    pytester.makepyfile(test_calc=LAZY_FIXTURE.format(name="test_old"))
    pytester.runpytest_subprocess("--apirec-mode=record").assert_outcomes(passed=1)
    pytester.makepyfile(test_calc=LAZY_FIXTURE.format(name="test_new"))
    result = pytester.runpytest_subprocess()  # replay; no --apirec-* option: the plugin waits
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*matches the recording of test_calc.py::test_old, a test this run did not collect*"]
    )
