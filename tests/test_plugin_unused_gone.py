"""Recordings of tests the suite no longer has (newuser 20): a parametrized id that changed, a
test file deleted. They never ran, so "0 stored recordings no test used" read as false; a run
that collected the whole suite counts them (and --apirec-prune deletes them), and a run that
did not says it counts only the tests that ran."""

import json

import pytest

from .plugin_helpers import setup

TEST_A = """
import os, pytest, provider

@pytest.mark.parametrize("city", os.environ["CITIES"].split(","))
def test_city(apirec, city):
    provider.add(len(city))

def test_kept(apirec):
    provider.add(100)
"""

TEST_B = """
import provider

def test_deleted_later(apirec):
    provider.add(7)
"""

# a key in a parametrized id is stored <redacted> in the test id: still the same test, and
# skipped later (its recording unused), not one the suite no longer has
TEST_C = """
import os, pytest, provider

@pytest.mark.skipif(os.environ["CITIES"] == "Oslo", reason="later")
@pytest.mark.parametrize("key", ["sk-proj-Q7xW2mN9pL4kR8vT1yB6cZ3hJ5gF0dSaE"])
def test_keyed(apirec, key):
    provider.add(9)
"""

LINE = (
    "apirec: 2 replayed, 0 recorded, 0 live, 0 missed; 2 stored recordings no test used, 2 of "
    "them of tests the suite no longer has (delete with --apirec-prune; -v lists them)"
)
NARROWED = "apirec: *; 0 stored recordings no test used (counting only the tests that ran)"


def _owners(pytester):
    return sorted(
        json.loads(p.read_text())["test_id"] for p in (pytester.path / "recordings").glob("*.json")
    )


@pytest.fixture
def gone(pytester, monkeypatch):
    """Recorded with test_city[Oslo], test_city[Lima], test_kept and test_b's test; then Lima
    is no longer a parameter and test_b.py is deleted."""
    setup(pytester)
    pytester.makepyfile(test_a=TEST_A, test_b=TEST_B, test_c=TEST_C)
    monkeypatch.setenv("CITIES", "Oslo,Lima")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=5)
    monkeypatch.setenv("CITIES", "Oslo")
    (pytester.path / "test_b.py").unlink()
    return _owners(pytester)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_whole_suite_run_counts_the_recordings_of_tests_it_no_longer_has(gone, pytester, workers):
    result = pytester.runpytest_subprocess("-v", *workers)
    result.assert_outcomes(passed=2, skipped=1)
    assert "test_c.py::test_keyed[<redacted>]" in gone
    result.stdout.fnmatch_lines(
        [
            LINE,
            "  unused: recordings/*.json (test_a.py::test_city[[]Lima[]], not in the suite any*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["  unused: recordings/*.json (test_b.py::test_deleted_later, not in the suite any more)"]
    )
    assert _owners(pytester) == gone  # counting deletes nothing


def test_the_printed_prune_deletes_them(gone, pytester):
    pytester.runpytest("--apirec-prune").stdout.fnmatch_lines(
        ["apirec: *; deleted 2 unused recordings, 2 of them of tests the suite no longer has"]
    )
    assert _owners(pytester) == [
        "test_a.py::test_city[Oslo]",
        "test_a.py::test_kept",
        "test_c.py::test_keyed[<redacted>]",
    ]
    pytester.runpytest().stdout.fnmatch_lines(["apirec: *; 0 stored recordings no test used"])


@pytest.mark.parametrize(
    "narrowing",
    [["-k", "kept"], ["test_a.py::test_kept"], ["test_a.py"], ["-x", "--apirec-prune"]],
    ids=["deselected", "node-id", "test-path", "stopped-early"],
)
def test_a_run_of_part_of_the_suite_counts_only_the_tests_that_ran(
    gone, pytester, narrowing, monkeypatch
):
    if "-x" in narrowing:  # test_city[Oslo] fails first: the rest never runs
        pytester.makepyfile(test_0="def test_fails(apirec):\n    assert False\n")
    result = pytester.runpytest(*narrowing)
    result.stdout.fnmatch_lines(
        [NARROWED.replace("0 stored recordings no test used (", "deleted 0 unused recordings (")]
        if "--apirec-prune" in narrowing
        else [NARROWED]
    )
    assert _owners(pytester) == gone


def test_a_collection_error_keeps_the_recordings_of_the_file_that_failed(gone, pytester):
    pytester.makepyfile(test_b="import no_such_module_here\n")  # test_b.py is back, broken
    result = pytester.runpytest("--continue-on-collection-errors", "--apirec-prune")
    result.stdout.fnmatch_lines(
        ["apirec: *; deleted 0 unused recordings (counting only the tests that ran)"]
    )
    assert _owners(pytester) == gone


IMPORTED = """
import apirec, provider

def test_replays_another_projects_recordings():
    # recordings copied from another project: its test ids name files this one never had
    with apirec.test_context("tests/integration/test_theirs.py::test_add"):
        with apirec.recording("data/theirs", mode="replay", repeats="last"):
            assert provider.add(5) == {"sum": 6}
"""


def test_recordings_copied_from_another_project_are_not_tests_the_suite_no_longer_has(pytester):
    """A store that does not lie beside or above a missing test file (data copied from another
    project, replayed under that project's test ids) is not judged by that file's absence:
    --apirec-prune would have deleted committed test data."""
    setup(pytester)
    pytester.makepyfile(test_imported=IMPORTED)
    with_record = IMPORTED.replace('mode="replay", ', 'mode="record", ')
    (pytester.path / "test_imported.py").write_text(with_record)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    # a second answer under another id of theirs, which no test here replays
    (pytester.path / "test_imported.py").write_text(
        with_record.replace("test_theirs.py::test_add", "test_theirs.py::test_other")
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    (pytester.path / "test_imported.py").write_text(IMPORTED)
    stored = sorted(p.name for p in (pytester.path / "data" / "theirs").rglob("*.json"))
    assert len(stored) == 2
    result = pytester.runpytest("-p", "no:randomly", "--apirec-prune")
    result.assert_outcomes(passed=1)
    assert "of tests the suite no longer has" not in result.stdout.str()
    assert sorted(p.name for p in (pytester.path / "data" / "theirs").rglob("*.json")) == stored
