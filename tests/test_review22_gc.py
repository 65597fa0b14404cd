"""Review of issue 22 (point 4): ``apirec gc REMOTE --usage A.json ...`` keeps what "no
recording of the given checkouts and usage reports refers to"; "one report per branch or
shard stands for a checkout that is not here" (docs/cli.md). A branch's report that does not
list every object its checkout needs, with gc accepting it, deletes objects the branch's
recordings still point at."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.test_cli_remote import BRANCH_TEST as BRANCH_TESTS
from tests.test_cli_remote import cli

from .plugin_helpers import setup


def _branch_run(pytester, tmp_path, monkeypatch, *args):
    """Record the branch, then replay it writing its usage report (as its CI does); the
    branch's checkout is then gone. Returns the remote's directory and the report."""
    store = tmp_path / "remote"
    store.mkdir()
    setup(pytester)
    pytester.makepyfile(
        test_branch=BRANCH_TESTS, test_other=BRANCH_TESTS.replace("branch", "other")
    )
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    pytester.runpytest("--apirec-mode=record", *args[:1]).assert_outcomes(passed=2)
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
    store = tmp_path / "remote"
    store.mkdir()
    setup(pytester)
    for part in ("a", "b"):  # a store beside each test file
        (pytester.path / part).mkdir()
        (pytester.path / part / f"test_{part}.py").write_text(
            BRANCH_TESTS.replace("branch", part).replace("test_speaks", f"test_speaks_{part}")
        )
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    assert len(os.listdir(store)) == 2
    time.sleep(0.05)
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
    store = tmp_path / "remote"
    store.mkdir()
    setup(pytester)
    pytester.makepyfile(
        test_branch=BRANCH_TESTS, test_other=BRANCH_TESTS.replace("branch", "other")
    )
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
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
