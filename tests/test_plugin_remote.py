"""--apirec-remote / ini apirec_remote / APIREC_REMOTE / the marker's remote=: large payloads
of a pytest run kept in a remote store (here a file:// directory and moto's S3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .plugin_helpers import setup

# a large answer (a body over 64 KiB: kept remotely when a remote is set)
FETCH = """
import pytest
import apirec

calls = []

@apirec.record(name="docs.fetch")
def fetch(name):
    calls.append(name)
    return {"name": name, "pages": ["lorem ipsum " * 30 for _ in range(300)]}
"""

TESTS = (
    FETCH
    + """
def test_fetch(apirec):
    assert len(fetch("manual")["pages"]) == 300

@pytest.mark.apirec(remote="")
def test_marker_turns_it_off(apirec):
    assert len(fetch("local")["pages"]) == 300
"""
)


def _bodies(recs):
    found = {}
    for path in recs.glob("*.json"):
        entry = json.loads(path.read_text())
        found[entry["test_id"].rsplit("::", 1)[1]] = entry["response"]["body"]
    return found


@pytest.mark.parametrize("how", ["cli", "ini", "env"])
def test_a_run_keeps_large_bodies_in_the_remote(pytester, tmp_path, monkeypatch, how):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    setup(pytester, f"apirec_remote = {remote}" if how == "ini" else "")
    if how == "env":
        monkeypatch.setenv("APIREC_REMOTE", remote)
    pytester.makepyfile(test_remote=TESTS)
    args = ["--apirec-dir=recs"] + ([f"--apirec-remote={remote}"] if how == "cli" else [])
    pytester.runpytest(*args, "--apirec-mode=record").assert_outcomes(passed=2)
    bodies = _bodies(pytester.path / "recs")
    assert bodies["test_fetch"]["__type__"] == "apirec.json"
    assert bodies["test_marker_turns_it_off"]["name"] == "local"  # kept in the recording
    assert len(list((tmp_path / "objects").iterdir())) == 1
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh-cache"))
    pytester.runpytest(*args).assert_outcomes(passed=2)  # replay: a miss would fail
    cached = [p for p in (tmp_path / "fresh-cache").rglob("*") if p.is_file()]
    assert len(cached) == 1  # fetched through the cache


def test_the_run_and_apirec_pull_agree_when_the_ini_and_the_environment_do_not(
    pytester, tmp_path, monkeypatch
):
    """One order for every setting, in the plugin and the commands: command line > ini >
    APIREC_*. ``apirec pull`` (a CI step before the tests) took the environment's remote
    before the ini's, so it prefetched from another store than the run then read."""
    in_ini, in_env = tmp_path / "ini-objects", tmp_path / "env-objects"
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("APIREC_REMOTE", in_env.as_uri())
    setup(pytester, f"apirec_remote = {in_ini.as_uri()}")
    pytester.makepyfile(test_remote=TESTS)
    args = ["--apirec-dir=recs", "-k", "test_fetch"]
    pytester.runpytest(*args, "--apirec-mode=record").assert_outcomes(passed=1)
    assert len(list(in_ini.iterdir())) == 1 and not in_env.exists()  # the ini's remote

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env["APIREC_CACHE_DIR"] = str(tmp_path / "ci-cache")
    pulled = subprocess.run(
        [sys.executable, "-m", "apirec", "pull", "recs"],
        capture_output=True,
        text=True,
        env=env,
        cwd=pytester.path,
        timeout=120,
    )
    assert pulled.returncode == 0, pulled
    assert f"from {in_ini.as_uri()} into" in pulled.stdout and "fetched 1 object" in pulled.stdout


def test_a_missing_object_fails_the_test_naming_it(pytester, tmp_path, monkeypatch):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    setup(pytester)
    pytester.makepyfile(test_remote=TESTS)
    args = ["--apirec-dir=recs", f"--apirec-remote={remote}", "-k", "test_fetch"]
    pytester.runpytest(*args, "--apirec-mode=record").assert_outcomes(passed=1)
    (digest_file,) = (tmp_path / "objects").iterdir()
    digest_file.unlink()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh-cache"))
    result = pytester.runpytest(*args, "--apirec-mode=record-if-missing")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{digest_file.name}, which is missing from the remote*"])


def test_a_bad_remote_is_a_usage_error(pytester):
    setup(pytester)
    pytester.makepyfile(test_remote=TESTS)
    result = pytester.runpytest("--apirec-remote=ftp://example.com/x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--apirec-remote*not a remote apirec can use*"])
