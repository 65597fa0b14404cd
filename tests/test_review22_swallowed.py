"""Review of issue 22 (point 2): "A missing or tampered object is a StoreError ... never a
live call, never a silent miss", through the pytest plugin. A replay miss
(RecordingNotFound) fails the test even when the code under test swallows it (retries,
fallbacks: ``except Exception``); a missing remote object does not: the test passes."""

from __future__ import annotations

from .plugin_helpers import setup
from .test_plugin_remote import FETCH

TESTS = (
    FETCH
    + """
def fetch_or_fallback(name):
    try:  # what retry and fallback layers do
        return fetch(name)
    except Exception:
        return {"name": name, "pages": []}

def test_fetch(apirec):
    assert fetch_or_fallback("manual")["name"] == "manual"
    assert calls == []
"""
)


def test_a_control_miss_swallowed_by_the_code_still_fails_the_test(pytester, tmp_path, monkeypatch):
    """The control: with no recording at all, the swallowed miss still fails the test."""
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    setup(pytester)
    pytester.makepyfile(test_remote=TESTS)
    remote = (tmp_path / "objects").as_uri()
    result = pytester.runpytest("--apirec-dir=recs", f"--apirec-remote={remote}")
    assert _failed(result), result.stdout.str()


def _failed(result):
    """The test failed or errored (a swallowed miss fails it at teardown)."""
    outcomes = result.parseoutcomes()
    return outcomes.get("failed", 0) + outcomes.get("errors", 0) > 0


def test_a_missing_object_swallowed_by_the_code_still_fails_the_test(
    pytester, tmp_path, monkeypatch
):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    setup(pytester)
    pytester.makepyfile(test_remote=TESTS.replace("assert calls == []", ""))
    args = ["--apirec-dir=recs", f"--apirec-remote={remote}"]
    pytester.runpytest(*args, "--apirec-mode=record").assert_outcomes(passed=1)
    (digest_file,) = (tmp_path / "objects").iterdir()
    digest_file.unlink()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh-cache"))
    pytester.makepyfile(test_remote=TESTS)
    result = pytester.runpytest(*args)  # replay
    assert _failed(result), result.stdout.str()
    result.stdout.fnmatch_lines([f"*{digest_file.name}*"])
