"""Review of issue 22 (point 4): ``apirec gc REMOTE --usage A.json ...`` keeps what "no
recording of the given checkouts and usage reports refers to"; "one report per branch or
shard stands for a checkout that is not here" (docs/cli.md). A branch's report that does not
list every object its checkout needs, with gc accepting it, deletes objects the branch's
recordings still point at."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from tests.test_cli_remote import BRANCH_TEST as BRANCH_TESTS
from tests.test_cli_remote import cli

from .plugin_helpers import setup


def _recorded_branch(pytester, tmp_path, monkeypatch, *args):
    """The branch's two tests recorded against a ``file://`` remote; returns its directory."""
    store = tmp_path / "remote"
    store.mkdir()
    setup(pytester)
    pytester.makepyfile(
        test_branch=BRANCH_TESTS, test_other=BRANCH_TESTS.replace("branch", "other")
    )
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    pytester.runpytest("--apirec-mode=record", *args).assert_outcomes(passed=2)
    return store


def _branch_run(pytester, tmp_path, monkeypatch, *args):
    """Record the branch, then replay it writing its usage report (as its CI does); the
    branch's checkout is then gone. Returns the remote's directory and the report."""
    store = _recorded_branch(pytester, tmp_path, monkeypatch, *args[:1])
    (kept,) = pytester.path.glob("recordings")
    time.sleep(0.05)
    pytester.runpytest("--apirec-usage=usage.json", *args)
    report = pytester.path / "usage.json"
    assert report.is_file()
    checkout = tmp_path / "branch-checkout"
    shutil.copytree(kept, checkout)  # what the branch still holds in git
    shutil.rmtree(kept)
    return store, report, checkout


def _needed(checkout: Path, tmp_path: Path) -> int:
    """``apirec pull`` of the branch's checkout into an empty cache: 0 when every object its
    recordings refer to is still on the remote."""
    pulled = cli(
        "pull",
        str(checkout),
        "--remote",
        f"file://{tmp_path / 'remote'}",
        cache=tmp_path / "empty-cache",
    )
    return pulled.returncode


def test_gc_keeps_the_objects_of_a_msgpack_branch_known_by_its_report(
    pytester, tmp_path, monkeypatch
):
    store, report, checkout = _branch_run(pytester, tmp_path, monkeypatch, "--apirec-store=msgpack")
    assert len(os.listdir(store)) == 2
    gc = cli("gc", f"file://{store}", "--usage", str(report), "--min-age", "0s")
    assert len(os.listdir(store)) == 2, gc.stdout + gc.stderr
    assert _needed(checkout, tmp_path) == 0


def test_gc_does_not_trust_the_report_of_a_narrowed_run(pytester, tmp_path, monkeypatch):
    store = _two_parts(pytester, tmp_path, monkeypatch)  # a store beside each test file
    pytester.runpytest("--apirec-usage=usage.json", "-k", "speaks_a").assert_outcomes(passed=1)
    report = pytester.path / "usage.json"
    checkout = tmp_path / "branch-checkout"
    for part in ("a", "b"):
        shutil.copytree(pytester.path / part / "recordings", checkout / part)
        shutil.rmtree(pytester.path / part / "recordings")
    gc = cli("gc", f"file://{store}", "--usage", str(report), "--min-age", "0s")
    assert len(os.listdir(store)) == 2, gc.stdout + gc.stderr
    assert _needed(checkout, tmp_path) == 0


def test_gc_keeps_the_objects_of_a_recording_the_report_could_not_read(
    pytester, tmp_path, monkeypatch
):
    store = _recorded_branch(pytester, tmp_path, monkeypatch)
    assert len(os.listdir(store)) == 2
    # the branch's recording in the middle of a merge conflict: unreadable for now
    (damaged,) = [
        p for p in (pytester.path / "recordings").glob("*.json") if '"other"' in p.read_text()
    ]
    good = damaged.read_text()
    damaged.write_text("<<<<<<< HEAD\n" + good + "=======\n>>>>>>> main\n")
    time.sleep(0.05)
    pytester.runpytest("--apirec-usage=usage.json")
    over_checkout = cli(
        "gc", f"file://{store}", str(pytester.path / "recordings"), "--min-age", "0s", "-n"
    )
    assert "nothing deleted" in over_checkout.stdout  # the control: gc over the checkout
    gc = cli("gc", f"file://{store}", "--usage", "usage.json", "--min-age", "0s", cwd=pytester.path)
    damaged.write_text(good)  # the conflict resolved
    assert len(os.listdir(store)) == 2, gc.stdout + gc.stderr
    assert gc.returncode == 1, gc.stdout + gc.stderr
    problem = gc.stdout.splitlines()[0]
    assert problem.startswith(f"PROBLEM  usage.json: {damaged}: "), gc.stdout
    assert gc.stdout.splitlines()[-1].startswith("FAILED: nothing deleted"), gc.stdout


def _two_parts(pytester, tmp_path, monkeypatch, *, skip_b: bool = False, ini: str = ""):
    """Tests in ``a/`` and ``b/``, each with its store beside it, recorded against a
    ``file://`` remote (one object each); ``skip_b``: b's test is skipped from then on."""
    store = tmp_path / "remote"
    store.mkdir()
    setup(pytester, ini)
    for part in ("a", "b"):
        (pytester.path / part).mkdir()
        (pytester.path / part / f"test_{part}.py").write_text(
            BRANCH_TESTS.replace("branch", part).replace("test_speaks", f"test_speaks_{part}")
        )
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    assert len(os.listdir(store)) == 2
    if skip_b:  # as on a CI job without b's optional dependency
        test_b = pytester.path / "b" / "test_b.py"
        test_b.write_text(
            "import pytest\n"
            + test_b.read_text().replace(
                "def test_speaks_b", "@pytest.mark.skip(reason='no b here')\ndef test_speaks_b"
            )
        )
    time.sleep(0.05)
    return store


def _gone_checkout(pytester, tmp_path):
    """The branch's recordings leave this machine (kept aside to check what they need)."""
    checkout = tmp_path / "branch-checkout"
    for part in ("a", "b"):
        shutil.copytree(pytester.path / part / "recordings", checkout / part)
        shutil.rmtree(pytester.path / part / "recordings")
    return checkout


def test_gc_keeps_the_objects_of_a_test_the_report_skipped(pytester, tmp_path, monkeypatch):
    store = _two_parts(pytester, tmp_path, monkeypatch, skip_b=True)
    pytester.runpytest("--apirec-usage=usage.json").assert_outcomes(passed=1, skipped=1)
    checkout = _gone_checkout(pytester, tmp_path)
    gc = cli("gc", f"file://{store}", "--usage", "usage.json", "--min-age", "0s", cwd=pytester.path)
    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert len(os.listdir(store)) == 2, gc.stdout + gc.stderr
    assert _needed(checkout, tmp_path) == 0


def test_gc_keeps_the_objects_of_tests_xdist_workers_deselected(pytester, tmp_path, monkeypatch):
    store = _two_parts(pytester, tmp_path, monkeypatch, ini="pythonpath = .")
    ran = pytester.runpytest_subprocess("-n", "2", "-k", "speaks_a", "--apirec-usage=usage.json")
    ran.assert_outcomes(passed=1)
    checkout = _gone_checkout(pytester, tmp_path)
    gc = cli("gc", f"file://{store}", "--usage", "usage.json", "--min-age", "0s", cwd=pytester.path)
    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert len(os.listdir(store)) == 2, gc.stdout + gc.stderr
    assert _needed(checkout, tmp_path) == 0


def test_gc_refuses_the_report_of_a_run_given_test_paths(pytester, tmp_path, monkeypatch):
    store = _two_parts(pytester, tmp_path, monkeypatch)
    pytester.runpytest("a", "--apirec-usage=usage.json").assert_outcomes(passed=1)
    _gone_checkout(pytester, tmp_path)
    gc = cli("gc", f"file://{store}", "--usage", "usage.json", "--min-age", "0s", cwd=pytester.path)
    assert gc.returncode == 2, gc.stdout + gc.stderr
    assert gc.stderr.startswith(
        "apirec: usage.json: its run may not have collected the whole suite (test paths given "
        "on the command line: a), so the objects of the tests it left out are not in it"
    ), gc.stderr
    assert "nothing was deleted" in gc.stderr
    assert len(os.listdir(store)) == 2


def test_gc_refuses_a_report_that_does_not_say_what_it_could_not_read(
    pytester, tmp_path, monkeypatch
):
    store = _two_parts(pytester, tmp_path, monkeypatch)
    pytester.runpytest("--apirec-usage=usage.json").assert_outcomes(passed=2)
    report = pytester.path / "usage.json"
    older = json.loads(report.read_text())
    del older["unreadable"]  # as written before reports said what they could not read
    report.write_text(json.dumps(older))
    _gone_checkout(pytester, tmp_path)
    (store / ("0" * 64)).write_bytes(b"left over")  # what gc would otherwise delete
    gc = cli("gc", f"file://{store}", "--usage", "usage.json", "--min-age", "0s", cwd=pytester.path)
    assert gc.returncode == 2, gc.stdout + gc.stderr
    assert (
        "usage.json: this usage report does not list which of its recordings it could not "
        "read (written by an older apirec)" in gc.stderr
    )
    assert len(os.listdir(store)) == 3


def test_gc_keeps_the_objects_of_a_damaged_msgpack_store_the_report_could_not_read(
    pytester, tmp_path, monkeypatch
):
    store = tmp_path / "remote"
    store.mkdir()
    setup(pytester)
    pytester.makepyfile(test_branch=BRANCH_TESTS)
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    pytester.runpytest("--apirec-mode=record", "--apirec-store=msgpack").assert_outcomes(passed=1)
    (packed,) = (pytester.path / "recordings").glob("recordings.apirec")
    good = packed.read_bytes()
    packed.write_bytes(good[: len(good) // 2])  # a truncated copy, for now
    time.sleep(0.05)
    pytester.runpytest("--apirec-usage=usage.json", "--apirec-store=msgpack")
    gc = cli("gc", f"file://{store}", "--usage", "usage.json", "--min-age", "0s", cwd=pytester.path)
    packed.write_bytes(good)
    assert gc.returncode == 1, gc.stdout + gc.stderr
    assert gc.stdout.startswith("PROBLEM  usage.json: "), gc.stdout
    assert len(os.listdir(store)) == 1, gc.stdout + gc.stderr
