"""Unused recordings: counted at the end of the session, deleted with --apirec-prune, but only
those of tests that ran in full in this session."""

import json

import pytest

from .plugin_helpers import INI, setup

# PHASE=record: every test makes all its calls. PHASE=later: test_shrinks makes fewer calls.
TEST_A = """
import os, pytest, provider
LATER = os.environ.get("PHASE") == "later"

def test_shrinks(apirec):
    provider.add(1)
    if not LATER:
        provider.add(2)        # no longer called later: its recording becomes unused
        provider.add(1)        # second answer of add(1): unused later too
    provider.models()          # shared (test_id null): never pruned

def test_steady(apirec):
    provider.add(3)

def test_fails_later(apirec):
    if not LATER:
        provider.add(4)
    assert not LATER, "a failed test never loses its recordings"

@pytest.mark.skipif(LATER, reason="skipped later")
def test_skipped_later(apirec):
    provider.add(5)
"""

TEST_B = """
import os, provider

def test_other_file(apirec):
    if os.environ.get("PHASE") != "later":
        provider.add(6)
"""


def _files(pytester):
    names = {}
    for path in sorted((pytester.path / "recordings").glob("*.json")):
        entry = json.loads(path.read_text())
        names[path.name] = (entry["test_id"], entry["request"]["args"])
    return names


@pytest.fixture
def recorded(pytester, monkeypatch):
    setup(pytester)
    pytester.makepyfile(test_a=TEST_A, test_b=TEST_B)
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=5)
    monkeypatch.setenv("PHASE", "later")
    before = _files(pytester)
    assert len(before) == 8
    return before


def test_subset_runs_never_delete_recordings_of_tests_that_did_not_run(pytester, recorded):
    # -k selects only test_steady: test_shrinks's unused recordings are not even counted
    result = pytester.runpytest("-k", "steady", "--apirec-prune")
    result.assert_outcomes(passed=1, deselected=4)
    result.stdout.fnmatch_lines(
        ["apirec: 1 replayed, * deleted 0 unused recordings (counting only the tests that ran)"]
    )
    # one file: test_b's recording (unused now) stays, as test_b did not run
    result = pytester.runpytest("test_a.py::test_steady", "test_a.py::test_fails_later")
    result.stdout.fnmatch_lines(
        ["apirec: *; 0 stored recordings no test used (counting only the tests that ran)"]
    )
    assert _files(pytester) == recorded


def test_prune_deletes_only_unused_recordings_of_tests_that_ran_in_full(pytester, recorded):
    result = pytester.runpytest("-v", "-rs")
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "apirec: 3 replayed, 0 recorded, 0 live, 0 missed; 3 stored recordings no test used "
            "(delete with --apirec-prune; -v lists them)",
        ]
    )
    assert _files(pytester) == recorded  # reporting deletes nothing

    result = pytester.runpytest("--apirec-prune")
    result.stdout.fnmatch_lines(["apirec: *; deleted 3 unused recordings"])
    after = _files(pytester)
    gone = {name: what for name, what in recorded.items() if name not in after}
    assert sorted(gone.values(), key=str) == [
        ("test_a.py::test_shrinks", {"a": 1}),  # the second answer of add(1) only
        ("test_a.py::test_shrinks", {"a": 2}),
        ("test_b.py::test_other_file", {"a": 6}),
    ]
    assert any(n.endswith(".1.json") for n in gone)  # the sequence keeps its first answer
    kept = sorted(after.values(), key=str)
    assert (None, {}) in kept  # shared models() recording
    assert ("test_a.py::test_fails_later", {"a": 4}) in kept  # failed: kept
    assert ("test_a.py::test_skipped_later", {"a": 5}) in kept  # skipped: kept

    pytester.runpytest().stdout.fnmatch_lines(["apirec: *; 0 stored recordings no test used"])


def test_prune_from_ini(pytester, recorded):
    pytester.makeini(INI.format(extra="apirec_prune = true"))
    pytester.runpytest().stdout.fnmatch_lines(["apirec: *; deleted 3 unused recordings"])


def test_an_interrupted_run_deletes_nothing(pytester, recorded):
    pytester.makepyfile(test_c="def test_stop(apirec):\n    raise KeyboardInterrupt\n")
    pytester.makeini(INI.format(extra="pythonpath = ."))
    result = pytester.runpytest_subprocess("--apirec-prune")  # in-process would stop us too
    assert result.ret == 2  # interrupted, after test_a.py and test_b.py ran in full
    result.stdout.fnmatch_lines(
        ["apirec: *; unused recordings not checked (the run was interrupted)"]
    )
    assert _files(pytester) == recorded


# The README's migration pattern (a conftest fixture opening its own recording on the test's
# directory) under the marker, and a test that opens a second recording on its fixture's
# directory: in both the calls go to the inner recording, not to the plugin's.
CONFTEST_RECORDING = """
import apirec, pytest

@pytest.fixture
def migrated():
    with apirec.recording("recordings"):
        yield
"""

TEST_OTHER_RECORDINGS = """
import os, apirec as apirec_lib, pytest, provider
LATER = os.environ.get("PHASE") == "later"

@pytest.mark.apirec
def test_migrated(migrated):
    provider.add(1)
    if not LATER:
        provider.add(2)   # unused later

def test_own_recording(apirec):
    with apirec_lib.recording(apirec.settings.path):
        provider.add(3)
        if not LATER:
            provider.add(4)   # unused later
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_prune_counts_what_every_recording_on_the_directory_used(pytester, monkeypatch, xdist):
    setup(pytester, "pythonpath = .")
    pytester.makeconftest(CONFTEST_RECORDING)
    pytester.makepyfile(test_m=TEST_OTHER_RECORDINGS)
    monkeypatch.setenv("PHASE", "record")
    run = pytester.runpytest_subprocess if xdist else pytester.runpytest
    run(*xdist, "--apirec-mode=record").assert_outcomes(passed=2)
    recorded = _files(pytester)
    assert sorted(args["a"] for _, args in recorded.values()) == [1, 2, 3, 4]

    monkeypatch.setenv("PHASE", "later")
    result = run(*xdist, "--apirec-prune")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["apirec: 2 replayed, 0 recorded, 0 live, 0 missed; deleted 2 unused recordings"]
    )
    assert sorted(args["a"] for _, args in _files(pytester).values()) == [1, 3]


def test_the_hint_names_the_flag_that_lists_them_after_q(pytester, recorded):
    # with -q, "-v lists them" listed nothing: -q -v is the default verbosity
    result = pytester.runpytest("-q")
    result.stdout.fnmatch_lines(["*3 stored recordings no test used (*; -vv lists them)"])
    result = pytester.runpytest("-q", "-vv")
    result.stdout.fnmatch_lines(["  unused: *test_b.py::test_other_file*"])


MANY = """
import pytest, provider

@pytest.mark.parametrize("n", range(40))
def test_many(apirec, n):
    provider.add(n)
"""

TWO_OWNERS_TESTS = """
import os, provider

def test_one(apirec):
    if os.environ.get("PHASE") != "later":
        provider.add(1)
        provider.add(2)
    else:
        provider.add(1)

def test_other(apirec):
    provider.add(3)
"""


@pytest.mark.parametrize("prefix", ["", '"test_id": "test_x.py::test_other",\n  '])
def test_a_file_naming_two_owners_is_judged_by_the_one_every_reader_sees(
    pytester, monkeypatch, prefix
):
    # json (and msgspec) keep the last "test_id": every reader of the store takes the file
    # for test_one's. The hint takes the first and passes over it: test_one ran alone, did
    # not use it, and before it was found unused (and pruned with --apirec-prune).
    setup(pytester)
    pytester.makepyfile(test_x=TWO_OWNERS_TESTS)
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    unused = None
    for path in (pytester.path / "recordings").glob("*.json"):
        entry = json.loads(path.read_text())
        if entry["request"]["args"] == {"a": 2}:
            unused = path
    assert unused is not None
    text = unused.read_text()
    assert text.startswith('{\n  "test_id": "test_x.py::test_one"')
    unused.write_text("{\n  " + prefix + text[len("{\n  ") :])
    assert json.loads(unused.read_text())["test_id"] == "test_x.py::test_one"
    monkeypatch.setenv("PHASE", "later")
    # its answer is unplayed: test_one's, by every reader (the deferred book, without strict)
    strict = pytester.runpytest_subprocess("test_x.py::test_one", "-v")
    strict.stdout.fnmatch_lines(
        ["*unplayed: test_x.py::test_one: 1 answer of demo.add() unplayed*"]
    )
    result = pytester.runpytest_subprocess("test_x.py::test_one", "--apirec-prune", "-vv")
    result.assert_outcomes(passed=1)
    assert not unused.exists(), result.stdout.str()


COUNTS = """
from apirec.stores import json_listing, json_store
from apirec.stores.json_store import JsonStore

read, hint = JsonStore.read, json_listing.owner_hint
reads, hints = [], []

def counted_read(self, key, index, **kwargs):
    reads.append(key)
    return read(self, key, index, **kwargs)

def counted_hint(path):
    hints.append(path)
    return hint(path)

JsonStore.read = counted_read
json_store.owner_hint = counted_hint

def pytest_unconfigure(config):
    print(f"recordings parsed: {len(reads)}, owner hints read: {len(hints)}")
"""


def test_a_run_of_one_test_reads_the_others_recordings_once_and_parses_none(pytester):
    # finding the unused and unplayed recordings of the tests that ran: the others' are
    # passed over by the test id their files begin with, each file read once for both books
    # (a run of one test parsed every file of the store, twice)
    setup(pytester)
    pytester.makepyfile(test_many=MANY)
    pytester.runpytest_subprocess("--apirec-mode=record").assert_outcomes(passed=40)
    pytester.makeconftest(COUNTS)
    result = pytester.runpytest_subprocess("-s", "test_many.py::test_many[7]")
    result.assert_outcomes(passed=1)
    # its own call's answer parsed; the 39 other tests' files read once
    result.stdout.fnmatch_lines(["recordings parsed: 1, owner hints read: 39"])
