"""Sharded CI: each shard writes --apirec-usage=FILE; `apirec prune DIR --usage A B` deletes
only what no shard used among recordings of tests some shard ran in full, and shared ones only
when the reports together cover the whole suite."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pytest

from .plugin_helpers import setup

# PHASE=record: every call is made. PHASE=later: some calls are no longer made.
# FAIL=1 (later): test_fails fails, so the reports no longer cover the whole suite.
TEST_A = """
import os, provider
LATER = os.environ.get("PHASE") == "later"

def test_shrinks(apirec):
    provider.add(1)
    if not LATER:
        provider.add(2)        # unused later
        provider.add(1)        # the second answer of add(1): unused later

def test_shared_user(apirec):
    if not LATER:
        provider.models()      # a shared recording (no test id), unused later

def test_fails(apirec):
    provider.add(4)
    assert os.environ.get("FAIL") != "1"
"""

TEST_B = """
import os, provider
LATER = os.environ.get("PHASE") == "later"

def test_other_file(apirec):
    if not LATER:
        provider.add(6)        # unused later

def test_steady(apirec):
    provider.add(3)
"""


def _files(root):
    found = {}
    for path in sorted((root / "recordings").glob("*.json")):
        entry = json.loads(path.read_text())
        found[path.name] = (entry["test_id"], entry["request"]["args"])
    return found


def _cli(cwd, *argv):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "apirec", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def recorded(pytester, monkeypatch):
    setup(pytester, "pythonpath = .")  # for the xdist workers
    pytester.makepyfile(test_a=TEST_A, test_b=TEST_B)
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=5)
    monkeypatch.setenv("PHASE", "later")
    before = _files(pytester.path)
    assert len(before) == 7
    return before


def _backdate(directory, *, days):
    """Recordings made ``days`` ago (to the second, as apirec stamps them)."""
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in directory.glob("*.json"):
        entry = json.loads(path.read_text())
        entry["recorded_at"] = when
        path.write_text(json.dumps(entry, indent=2))


def _shards(pytester, *extra):
    """Two -k halves of the suite, each writing its report."""
    a = pytester.runpytest("-k", "test_a", "--apirec-usage=reports/a.json", *extra)
    b = pytester.runpytest("-k", "not test_a", "--apirec-usage=reports/b.json", *extra)
    return a, b


def _gone(before, root):
    after = _files(root)
    return sorted((v for k, v in before.items() if k not in after), key=str)


def test_a_report_says_what_the_run_used_and_ran_in_full_relative_to_the_rootdir(
    pytester, recorded
):
    a, _ = _shards(pytester)
    a.assert_outcomes(passed=3, deselected=2)
    report = json.loads((pytester.path / "reports" / "a.json").read_text())
    assert report["apirec_usage"] == 1
    assert report["stores"] == {"recordings": "json"}  # relative: other checkouts agree
    assert sorted(report["ran_in_full"]) == [
        "test_a.py::test_fails",
        "test_a.py::test_shared_user",
        "test_a.py::test_shrinks",
    ]
    assert set(report["ran_in_full"]["test_a.py::test_shrinks"]) == {"recordings"}
    used = report["used"]["recordings"]
    assert sorted(len(slots) for slots in used.values()) == [1, 1]  # add(1) #0, add(4)
    assert all(slots == [0] for slots in used.values())
    suite = report["suite"]
    assert len(suite["collected"]) == 5  # deselected tests are part of the suite
    assert len(suite["passed"]) == 3
    assert suite["narrowed"] == []


def test_prune_with_both_reports_deletes_what_no_shard_used(pytester, recorded, monkeypatch):
    monkeypatch.setenv("FAIL", "1")
    a, b = _shards(pytester)
    a.assert_outcomes(passed=2, failed=1, deselected=2)
    b.assert_outcomes(passed=2, deselected=3)

    # one shard's report alone: test_b's unused recording stays (its test did not run there)
    done = _cli(pytester.path, "prune", "recordings", "--usage", "reports/a.json", "-n")
    assert done.returncode == 0, done.stderr
    assert "would delete 2 recordings" in done.stdout

    done = _cli(pytester.path, "prune", "recordings", "--usage", "reports/a.json", "reports/b.json")
    assert done.returncode == 0, done.stderr
    assert "deleted 3 recordings" in done.stdout
    assert _gone(recorded, pytester.path) == sorted(
        [
            ("test_a.py::test_shrinks", {"a": 1}),  # the second answer only: no gap
            ("test_a.py::test_shrinks", {"a": 2}),
            ("test_b.py::test_other_file", {"a": 6}),
        ],
        key=str,
    )
    after = _files(pytester.path)
    assert ("test_a.py::test_shrinks", {"a": 1}) in after.values()
    assert ("test_a.py::test_fails", {"a": 4}) in after.values()  # failed: kept
    # the shared recording no report used stays: test_fails passed in no report
    assert (None, {}) in after.values()
    assert "kept 1 shared recording no report used" in done.stdout
    assert "test_a.py::test_fails" in done.stdout

    # the sharded suite replays as before
    pytester.runpytest().assert_outcomes(passed=4, failed=1)


def test_shared_recordings_go_when_the_reports_cover_the_whole_suite(pytester, recorded):
    a, b = _shards(pytester)
    a.assert_outcomes(passed=3, deselected=2)
    b.assert_outcomes(passed=2, deselected=3)
    done = _cli(pytester.path, "prune", "recordings", "--usage", "reports/a.json", "reports/b.json")
    assert done.returncode == 0, done.stderr
    assert "deleted 4 recordings" in done.stdout
    assert (None, {}) in _gone(recorded, pytester.path)
    pytester.runpytest().assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("shard_a", "shard_b", "reason"),
    [
        # test paths on the command line: the reports cannot know what else the suite holds
        (["test_a.py"], ["test_b.py"], "test paths given on the command line: test_a.py"),
        # -k halves, but one shard left a file out of its collection
        (["-k", "test_a", "--ignore=test_b.py"], ["-k", "not test_a"], "--ignore=test_b.py"),
    ],
)
def test_shared_recordings_stay_when_a_report_may_have_missed_tests(
    pytester, recorded, shard_a, shard_b, reason
):
    pytester.runpytest(*shard_a, "--apirec-usage=a.json")
    pytester.runpytest(*shard_b, "--apirec-usage=b.json")
    done = _cli(pytester.path, "prune", "recordings", "--usage", "a.json", "b.json")
    assert done.returncode == 0, done.stderr
    assert (None, {}) not in _gone(recorded, pytester.path)
    assert "kept 1 shared recording no report used: a.json may not cover" in done.stdout
    assert reason in done.stdout


def test_reports_from_two_checkouts_in_different_places(pytester, recorded, monkeypatch):
    other = pytester.path.parent / (pytester.path.name + "-checkout-2")
    shutil.copytree(pytester.path, other)
    pytester.runpytest("-k", "test_a", "--apirec-usage=a.json")
    monkeypatch.chdir(other)
    pytester.runpytest("-k", "not test_a", f"--apirec-usage={pytester.path / 'b.json'}")
    monkeypatch.chdir(pytester.path)
    done = _cli(pytester.path, "prune", "recordings", "--usage", "a.json", "b.json")
    assert done.returncode == 0, done.stderr
    assert "deleted 4 recordings" in done.stdout
    # from elsewhere, --rootdir says where the reports' paths start
    shutil.copytree(other / "recordings", pytester.path / "recordings", dirs_exist_ok=True)
    done = _cli(
        pytester.path.parent, "prune", str(other / "recordings"), "--rootdir", str(other),
        "--usage", str(pytester.path / "a.json"), str(pytester.path / "b.json"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "deleted 4 recordings" in done.stdout


def test_dry_run_lists_and_deletes_nothing(pytester, recorded):
    _shards(pytester)
    done = _cli(
        pytester.path, "prune", "recordings", "--dry-run",
        "--usage", "reports/a.json", "reports/b.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = [line for line in done.stdout.splitlines() if line.startswith("would delete rec")]
    assert len(listed) == 4
    assert done.stdout.splitlines()[-1] == "would delete 4 recordings"
    assert _files(pytester.path) == recorded


def test_reports_naming_no_store_under_dir_are_a_usage_error(pytester, recorded, tmp_path):
    _shards(pytester)
    done = _cli(tmp_path, "prune", str(pytester.path / "recordings"), "--usage",
                str(pytester.path / "reports/a.json"))  # fmt: skip
    assert done.returncode == 2
    assert "none of the stores the usage reports name is under" in done.stderr
    assert "--rootdir" in done.stderr
    assert _files(pytester.path) == recorded


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[]", "not a JSON object"),
        ('{"apirec_usage": 1}', "'stores' must map store paths to kinds"),
        ('{"apirec_usage": 9}', "format 9, newer than this apirec reads"),
        (
            '{"apirec_usage": 1, "stores": {}, "used": {"r": {"k": ["0"]}}, '
            '"ran_in_full": {}, "suite": {}}',
            "'used' must map store paths to {key: [slots]}",
        ),
    ],
)
def test_a_malformed_report_is_a_clear_error_naming_the_file(pytester, recorded, content, problem):
    pytester.runpytest("--apirec-usage=good.json").assert_outcomes(passed=5)
    (pytester.path / "broken.json").write_text(content)
    done = _cli(pytester.path, "prune", "recordings", "--usage", "good.json", "broken.json")
    assert done.returncode == 2
    assert "broken.json: not an apirec usage report" in done.stderr
    assert problem in done.stderr
    assert _files(pytester.path) == recorded


def test_a_missing_report_is_a_usage_error(pytester, recorded):
    done = _cli(pytester.path, "prune", "recordings", "--usage", "nowhere.json")
    assert done.returncode == 2
    assert "nowhere.json: cannot be read" in done.stderr


def test_xdist_workers_are_merged_into_one_report(pytester, recorded):
    result = pytester.runpytest_subprocess("-n", "2", "-k", "test_a", "--apirec-usage=a.json")
    result.assert_outcomes(passed=3)
    report = json.loads((pytester.path / "a.json").read_text())
    assert len(report["suite"]["collected"]) == 5
    assert sorted(report["suite"]["passed"]) == sorted(report["ran_in_full"])
    assert len(report["ran_in_full"]) == 3
    assert report["suite"]["narrowed"] == []
    assert sum(len(s) for s in report["used"]["recordings"].values()) == 2


def test_a_run_from_a_subdirectory_does_not_vouch_for_the_whole_suite(pytester, recorded):
    sub = pytester.mkdir("sub")
    (sub / "test_c.py").write_text("def test_c():\n    pass\n")
    pytester.makeini(
        (pytester.path / "tox.ini").read_text() + "testpaths = test_a.py test_b.py sub\n"
    )
    os.chdir(sub)
    try:
        pytester.runpytest("--apirec-usage=../c.json").assert_outcomes(passed=1)
    finally:
        os.chdir(pytester.path)
    report = json.loads((pytester.path / "c.json").read_text())
    assert report["suite"]["collected"] == ["sub/test_c.py::test_c"]
    assert report["suite"]["narrowed"] == [f"run from {sub}, not the rootdir"]


def test_a_leftover_report_never_deletes_what_a_test_recorded_after_it(pytester, recorded):
    """D14: a usage report from an older run matched the glob; a test gained a call since. The
    report never saw that recording, so it cannot call it unused: prune keeps it, and says so."""
    _backdate(pytester.path / "recordings", days=2)  # made well before the old run
    pytester.runpytest("--apirec-usage=usage-old.json").assert_outcomes(passed=5)
    old = json.loads((pytester.path / "usage-old.json").read_text())
    assert old["commit"] is None  # not a git checkout
    old["started_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )  # the run of a day ago
    (pytester.path / "usage-old.json").write_text(json.dumps(old))
    # test_steady gains a call, recorded now
    test_b = TEST_B.replace("    provider.add(3)\n", "    provider.add(3)\n    provider.add(9)\n")
    pytester.makepyfile(test_b=test_b)
    pytester.runpytest("test_b.py::test_steady", "--apirec-mode=record-if-missing").assert_outcomes(
        passed=1
    )
    gained = ("test_b.py::test_steady", {"a": 9})
    assert gained in _files(pytester.path).values()

    done = _cli(pytester.path, "prune", "recordings", "--usage", "usage-old.json")
    assert done.returncode == 0, done.stderr
    assert gained in _files(pytester.path).values()
    assert "kept 1 recording recorded after the report(s) that judged it" in done.stdout
    assert f"the oldest: usage-old.json (started {old['started_at']})" in done.stdout
    # what the report did judge still goes
    assert "deleted 4 recordings" in done.stdout
    assert ("test_b.py::test_other_file", {"a": 6}) in _gone(recorded, pytester.path)
    pytester.runpytest().assert_outcomes(passed=5)


def test_a_report_without_its_start_time_is_refused(pytester, recorded):
    """Written by an older apirec: it cannot tell what was recorded after it, so nothing goes."""
    pytester.runpytest("--apirec-usage=old.json").assert_outcomes(passed=5)
    report = json.loads((pytester.path / "old.json").read_text())
    del report["started_at"]
    (pytester.path / "old.json").write_text(json.dumps(report))
    done = _cli(pytester.path, "prune", "recordings", "--usage", "old.json")
    assert done.returncode == 2
    assert "old.json: this usage report does not say when its run began" in done.stderr
    assert "nothing was deleted" in done.stderr
    assert _files(pytester.path) == recorded


def test_a_report_names_the_commit_of_the_checkout(pytester, recorded):
    sha = "0123456789abcdef0123456789abcdef01234567"
    git = pytester.path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    pytester.runpytest("--apirec-usage=a.json").assert_outcomes(passed=5)
    report = json.loads((pytester.path / "a.json").read_text())
    assert report["commit"] == sha
    dt.datetime.fromisoformat(report["started_at"])
    newer = "fedcba9876543210fedcba9876543210fedcba98"
    (git / "refs" / "heads" / "main").write_text(newer + "\n")  # a loose ref wins
    pytester.runpytest("--apirec-usage=b.json").assert_outcomes(passed=5)
    assert json.loads((pytester.path / "b.json").read_text())["commit"] == newer
    done = _cli(pytester.path, "prune", "recordings", "--usage", "a.json", "b.json", "-n")
    assert done.returncode == 0, done.stderr
    assert "note: the reports were made on 2 different commits" in done.stdout


@pytest.mark.parametrize(("offset", "kept"), [(0.4, True), (-0.4, False)])
def test_within_the_second_the_report_began_the_file_time_decides(pytester, recorded, offset, kept):
    """recorded_at is to the second: in the very second a report's run began, the file's
    modification time tells a recording made after it (kept) from one made before."""
    pytester.runpytest("--apirec-usage=a.json").assert_outcomes(passed=5)
    report = json.loads((pytester.path / "a.json").read_text())
    started = dt.datetime.fromisoformat(report["started_at"])
    started = started.replace(microsecond=500_000)  # mid-second: room either side
    report["started_at"] = started.isoformat()
    (pytester.path / "a.json").write_text(json.dumps(report))
    second = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in (pytester.path / "recordings").glob("*.json"):
        entry = json.loads(path.read_text())
        entry["recorded_at"] = second
        path.write_text(json.dumps(entry, indent=2))
        at = started.timestamp() + offset
        os.utime(path, (at, at))
    done = _cli(pytester.path, "prune", "recordings", "--usage", "a.json")
    assert done.returncode == 0, done.stderr
    if kept:
        assert "deleted 0 recordings" in done.stdout
        assert "kept 4 recordings recorded after the report(s)" in done.stdout
        assert _files(pytester.path) == recorded
    else:
        assert "deleted 4 recordings" in done.stdout
        assert "kept" not in done.stdout


def test_the_usage_report_holds_test_ids_as_the_gate_stores_them(pytester):
    """A test id holding a key (a parametrized test) is written scrubbed, as in the
    recording: the report never leaks it, and prune still matches the two."""
    setup(pytester, "pythonpath = .")
    key = "sk-proj-" + "Abcdefghijklmnop1234567890QRSTuv"
    pytester.makepyfile(
        test_param=f"""
import pytest, provider

@pytest.mark.parametrize("key", ["{key}"])
def test_call(apirec, key):
    provider.add(1)
"""
    )
    result = pytester.runpytest("--apirec-mode=record", "--apirec-usage=u.json")
    result.assert_outcomes(passed=1)
    text = (pytester.path / "u.json").read_text()
    assert key not in text
    (test_id,) = {test_id for test_id, _ in _files(pytester.path).values()}
    report = json.loads(text)
    assert "[<redacted>]" in test_id and test_id in report["ran_in_full"]
    assert report["suite"]["passed"] == [test_id]
