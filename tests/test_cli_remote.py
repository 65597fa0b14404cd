"""``apirec push``, ``pull``, ``gc`` and ``verify`` against a remote store: moto's S3 server on
127.0.0.1 through the real client library (obstore), and a ``file://`` directory; each command
run as a user runs it, in its own process."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import apirec
from tests.plugin_helpers import setup
from tests.s3_server import S3Server
from tests.terminal import run_on_terminal

pytest.importorskip("obstore")

KIB = 1024


def _payload(seed: str) -> bytes:
    block = hashlib.sha256(seed.encode()).digest()
    return (block * (100 * KIB // len(block) + 1))[: 100 * KIB]


@apirec.record(name="tts.speak")
def speak(text: str) -> bytes:
    return _payload(text)


def _record(root: Path, remote: str, *texts: str) -> None:
    with apirec.recording(root, mode="record", remote=remote):
        for text in texts:
            with apirec.test_context(f"tests/test_tts.py::test_{text}"):
                speak(text)


def _digest(text: str) -> str:
    return hashlib.sha256(_payload(text)).hexdigest()


def cli(*argv: str, cache: Path | None = None, cwd: Path | None = None, **env: str):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env}
    if cache is not None:
        environment["APIREC_CACHE_DIR"] = str(cache)
    environment.pop("APIREC_REMOTE", None)
    environment.update({k: v for k, v in env.items() if k == "APIREC_REMOTE"})
    return subprocess.run(
        [sys.executable, "-m", "apirec", *argv],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """Three recordings whose payloads live in a ``file://`` remote and in the cache
    ``APIREC_CACHE_DIR`` they were recorded with (``recording-cache``)."""
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "recording-cache"))
    remote = f"file://{tmp_path / 'first-remote'}"
    root = tmp_path / "checkout" / "tests" / "recordings"
    _record(root, remote, "a", "b", "c")
    return root, remote


def _recording_cache(root: Path) -> Path:
    return root.parents[2] / "recording-cache"


def test_push_uploads_what_the_remote_lacks_then_pull_fills_an_empty_cache(
    recorded: tuple[Path, str], s3_server: S3Server, tmp_path: Path
) -> None:
    root, _ = recorded
    url = s3_server.remote_url
    pushed = cli("push", str(root), "--remote", url, "--jobs", "4", cache=_recording_cache(root))
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert pushed.stdout.startswith("uploaded 3 objects (300.0 KB) to " + url), pushed.stdout
    assert "0 were there already" in pushed.stdout
    assert s3_server.object_names() == sorted(_digest(t) for t in "abc")

    again = cli("push", str(root), "--remote", url, cache=_recording_cache(root))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("uploaded 0 objects (0 B) to "), again.stdout
    assert "3 were there already" in again.stdout

    cache = tmp_path / "ci-cache"
    pulled = cli("pull", str(root), "--remote", url, "--jobs", "16", cache=cache)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.startswith(f"fetched 3 objects (300.0 KB) from {url} into {cache}")
    for text in "abc":
        digest = _digest(text)
        assert (cache / "objects" / digest[:2] / digest).read_bytes() == _payload(text)
    again = cli("pull", str(root), "--remote", url, cache=cache)
    assert again.returncode == 0 and "fetched 0 objects" in again.stdout, again.stdout
    assert "3 were cached already" in again.stdout

    # a fork's job: no credentials, the same objects through a public read-only URL
    public = s3_server.http_url
    refused = cli("push", str(root), "--remote", public, cache=_recording_cache(root))
    assert refused.returncode == 2 and "read-only" in refused.stderr, refused.stderr
    forked = cli("pull", str(root), "--remote", public, cache=tmp_path / "fork-cache")
    assert forked.returncode == 0, forked.stdout + forked.stderr
    assert forked.stdout.startswith(f"fetched 3 objects (300.0 KB) from {public} into")

    # the server gone, replay reads the cache alone
    s3_server.stop()
    checked = cli("verify", str(root), "--remote", url, cache=cache)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_pull_names_the_recording_the_object_and_the_url_of_what_is_missing_or_altered(
    recorded: tuple[Path, str], s3_server: S3Server, tmp_path: Path
) -> None:
    root, _ = recorded
    url = s3_server.remote_url
    assert cli("push", str(root), "--remote", url, cache=_recording_cache(root)).returncode == 0
    s3_server.delete_object(_digest("a"))
    s3_server.put_object(_digest("b"), b"not the payload")

    cache = tmp_path / "ci-cache"
    pulled = cli("pull", str(root), "--remote", url, cache=cache)
    assert pulled.returncode == 1, pulled.stdout
    problems = [line for line in pulled.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 2, pulled.stdout
    missing, altered = sorted(problems, key=lambda line: _digest("a") not in line)
    recording_a = next(p for p in root.glob("*.json") if _digest("a") in p.read_text())
    assert str(recording_a) in missing and f"{url}/{_digest('a')}" in missing
    assert "no such object" in missing
    assert f"{url}/{_digest('b')}" in altered and "altered" in altered
    assert pulled.stdout.splitlines()[-1].startswith("FAILED: fetched 1 object (100.0 KB)")
    assert ", 1 missing, 1 altered (" in pulled.stdout, pulled.stdout
    # nothing altered reached the cache
    assert not (cache / "objects" / _digest("b")[:2] / _digest("b")).exists()


def test_push_replaces_an_altered_remote_object_as_pull_advises(
    recorded: tuple[Path, str], s3_server: S3Server, tmp_path: Path
) -> None:
    root, _ = recorded
    url, cache = s3_server.remote_url, _recording_cache(root)
    assert cli("push", str(root), "--remote", url, cache=cache).returncode == 0
    s3_server.put_object(_digest("a"), b"truncated")  # another size: a HEAD shows it
    s3_server.put_object(_digest("b"), b"x" * len(_payload("b")))  # same size: read back
    pulled = cli("pull", str(root), "--remote", url, cache=tmp_path / "c")
    assert "apirec push --check" in pulled.stdout, pulled.stdout

    pushed = cli("push", str(root), "--remote", url, cache=cache)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "1 replaced (altered)" in pushed.stdout, pushed.stdout
    checked = cli("push", str(root), "--remote", url, "--check", cache=cache)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 replaced (altered)" in checked.stdout, checked.stdout
    assert "2 were there already" in checked.stdout, checked.stdout

    pulled = cli("pull", str(root), "--remote", url, cache=tmp_path / "c")
    assert pulled.returncode == 0, pulled.stdout
    again = cli("push", str(root), "--remote", url, "--check", cache=cache)
    assert "3 were there already" in again.stdout and "replaced" not in again.stdout


def test_show_and_ls_say_a_payload_is_on_the_remote_not_in_blobs(
    recorded: tuple[Path, str],
) -> None:
    root, _ = recorded
    path = next(p for p in root.glob("*.json") if _digest("a") in p.read_text())
    shown = cli("show", str(path))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"bytes on the remote (read through the cache), object {_digest('a')[:12]}" in (
        shown.stdout
    )
    assert "in blobs/" not in shown.stdout, shown.stdout
    listed = cli("ls", str(root))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "(3 objects on the remote)" in listed.stdout and "blob" not in listed.stdout


def test_pull_tells_an_unreachable_remote_from_a_missing_object(
    recorded: tuple[Path, str], s3_server: S3Server, tmp_path: Path
) -> None:
    root, _ = recorded
    s3_server.stop()
    pulled = cli("pull", str(root), "--remote", s3_server.remote_url, cache=tmp_path / "c")
    assert pulled.returncode == 1, pulled.stdout
    summary = pulled.stdout.splitlines()[-1]
    assert "3 unreachable (network or configuration)" in summary, summary
    assert "missing" not in summary and "altered" not in summary, summary


def test_pull_finds_the_remote_on_the_command_line_then_the_pytest_ini_then_the_environment(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    root, remote = recorded
    checkout = root.parents[1]
    none = cli("pull", "tests/recordings", cache=tmp_path / "none", cwd=checkout)
    assert none.returncode == 2 and "--remote URL" in none.stderr, none.stderr

    from_env = cli(
        "pull", "tests/recordings", cache=tmp_path / "env", cwd=checkout, APIREC_REMOTE=remote
    )
    assert from_env.returncode == 0 and f"from {remote} into" in from_env.stdout, from_env
    assert "fetched 3 objects" in from_env.stdout

    # the ini file before the environment, as for every setting and in the test run
    # (apirec.record.layers); the command line before both
    elsewhere = f"file://{tmp_path / 'nothing-here'}"
    (checkout / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\napirec_remote = "{remote}"\n'
    )
    from_ini = cli(
        "pull", "tests/recordings", cache=tmp_path / "ini", cwd=checkout, APIREC_REMOTE=elsewhere
    )
    assert from_ini.returncode == 0 and f"from {remote} into" in from_ini.stdout, from_ini
    (checkout / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\napirec_remote = "{elsewhere}"\n'
    )
    given = cli(
        "pull", "tests/recordings", "--remote", remote, cwd=checkout, APIREC_REMOTE=elsewhere
    )
    assert given.returncode == 0 and f"from {remote} into" in given.stdout, given


def test_push_refuses_to_upload_a_tampered_local_copy(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = recorded
    cache = _recording_cache(root)
    digest = _digest("a")
    (cache / "objects" / digest[:2] / digest).write_bytes(b"tampered")
    target = f"file://{tmp_path / 'second-remote'}"
    pushed = cli("push", str(root), "--remote", target, cache=cache)
    assert pushed.returncode == 1, pushed.stdout
    assert f"refers to the object {digest}, which is neither on {target}/{digest}" in pushed.stdout
    assert "uploaded 2 objects" in pushed.stdout and "1 could not be uploaded" in pushed.stdout
    assert sorted(os.listdir(tmp_path / "second-remote")) == sorted(_digest(t) for t in "bc")


def test_gc_warns_when_no_referenced_object_is_under_the_prefix_and_takes_min_age_0(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    root, remote = recorded
    (tmp_path / "elsewhere").mkdir()
    wrong = cli("gc", f"file://{tmp_path / 'elsewhere'}", str(root), "--min-age", "0", "-n")
    assert wrong.returncode == 0, wrong.stdout + wrong.stderr
    assert "WARNING  none of the 3 referenced objects is in" in wrong.stdout, wrong.stdout
    right = cli("gc", remote, str(root), "--min-age", "0", "--dry-run")
    assert right.returncode == 0, right.stdout + right.stderr
    assert "WARNING" not in right.stdout and "kept 3 referenced" in right.stdout, right.stdout


def test_gc_lists_then_deletes_only_what_nothing_refers_to(
    recorded: tuple[Path, str], s3_server: S3Server, tmp_path: Path
) -> None:
    root, _ = recorded
    url = s3_server.remote_url
    _record(root, url, "gone", "branch")
    assert cli("push", str(root), "--remote", url, cache=_recording_cache(root)).returncode == 0
    for path in root.glob("*.json"):
        text = path.read_text()
        if _digest("gone") in text or _digest("branch") in text:
            path.unlink()
    # another branch's checkout, known here by its usage report only, of a run that began
    # after every object was stored
    time.sleep(0.05)
    began = dt.datetime.now(dt.UTC).isoformat()
    report = tmp_path / "branch.json"
    report.write_text(
        json.dumps(
            {
                "apirec_usage": 1,
                "started_at": began,
                "commit": None,
                "stores": {},
                "used": {},
                "ran_in_full": {},
                "suite": {"collected": [], "passed": [], "narrowed": []},
                "objects": [_digest("branch")],
                "unreadable": [],
            }
        )
    )
    names = sorted(_digest(t) for t in ("a", "b", "c", "gone", "branch"))
    assert s3_server.object_names() == names

    # stored just now: kept by the default --min-age
    young = cli("gc", url, str(root), "--usage", str(report), "--dry-run")
    assert young.returncode == 0, young.stderr
    assert young.stdout.splitlines() == [
        f"would delete 0 objects (0 B) of 5 in {url}; kept 4 referenced and 1 stored recently"
    ]

    dry = cli("gc", url, "--usage", str(report), str(root), "--min-age", "0s", "-n")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        f"would delete {url}/{_digest('gone')}",
        f"would delete 1 object (100.0 KB) of 5 in {url}; kept 4 referenced",
    ]
    assert s3_server.object_names() == names

    done = cli("gc", url, str(root), "--usage", str(report), "--min-age", "0s")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"deleted 1 object (100.0 KB) of 5 in {url}; kept 4 referenced"
    )
    assert s3_server.object_names() == sorted(_digest(t) for t in ("a", "b", "c", "branch"))


def test_gc_deletes_nothing_when_what_stays_is_unknown(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    root, remote = recorded
    nothing = cli("gc", remote)
    assert nothing.returncode == 2 and "never deletes everything" in nothing.stderr

    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {
                "apirec_usage": 1,
                "started_at": "2026-01-01T00:00:00Z",
                "stores": {},
                "used": {},
                "ran_in_full": {},
                "suite": {"collected": [], "passed": [], "narrowed": []},
            }
        )
    )
    refused = cli("gc", remote, str(root), "--usage", str(old), "--min-age", "0s")
    assert refused.returncode == 2 and "does not list the remote objects" in refused.stderr

    broken = next(iter(root.glob("*.json")))
    broken.write_text("{")
    unreadable = cli("gc", remote, str(root), "--min-age", "0s")
    assert unreadable.returncode == 1
    assert unreadable.stdout.splitlines()[-1].startswith("FAILED: nothing deleted")
    assert len(os.listdir(remote.removeprefix("file://"))) == 3


def test_verify_checks_remote_references(recorded: tuple[Path, str], tmp_path: Path) -> None:
    root, remote = recorded
    cache = _recording_cache(root)
    assert cli("verify", str(root), cache=cache).returncode == 0  # all in the cache

    empty = tmp_path / "empty-cache"
    unreachable = cli("verify", str(root), cache=empty)
    assert unreachable.returncode == 1, unreachable.stdout
    assert "missing here" in unreachable.stdout and "nor in the cache" in unreachable.stdout
    assert "no remote store is set" in unreachable.stdout

    assert cli("verify", str(root), "--remote", remote, cache=empty).returncode == 0
    digest = _digest("c")
    Path(remote.removeprefix("file://"), digest).write_bytes(b"tampered")
    tampered = cli("verify", str(root), "--remote", remote, cache=tmp_path / "third-cache")
    assert tampered.returncode == 1 and f"{remote}/{digest}" in tampered.stdout
    assert "altered" in tampered.stdout


@pytest.mark.parametrize("command", ["push", "pull"])
def test_progress_on_a_terminal_and_not_when_piped(
    recorded: tuple[Path, str], tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, remote = recorded
    target = remote if command == "pull" else f"file://{tmp_path / 'pushed'}"
    if command == "pull":
        monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "empty-cache"))
    argv = [command, str(root), "--remote", target]
    code, terminal, out = run_on_terminal(argv, stream="stderr")
    assert code == 0, terminal + out
    assert f"\r{command}: " in terminal, repr(terminal)
    assert f"{command}: " not in out
    piped = cli(*argv)
    assert piped.returncode == 0 and "\r" not in piped.stderr, piped.stderr


def test_pull_and_verify_read_the_references_of_a_msgpack_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "recording-cache"))
    remote = f"file://{tmp_path / 'remote'}"
    root = tmp_path / "packed"
    test = apirec.test_context("tests/test_tts.py::test_packed")
    with apirec.recording(root, mode="record", remote=remote, store="msgpack"), test:
        speak("packed")
    cache = tmp_path / "empty-cache"
    pulled = cli("pull", str(root), "--remote", remote, cache=cache)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.startswith("fetched 1 object (100.0 KB)"), pulled.stdout
    assert "(1 recording read)" in pulled.stdout
    checked = cli("verify", str(root), "--remote", remote, cache=cache)
    assert checked.returncode == 0, checked.stdout
    Path(remote.removeprefix("file://"), _digest("packed")).unlink()
    missing = cli("verify", str(root), "--remote", remote, cache=tmp_path / "other-cache")
    assert missing.returncode == 1 and _digest("packed") in missing.stdout, missing.stdout


BRANCH_TEST = """
import hashlib
import apirec

@apirec.record(name="tts.speak")
def speak(text):
    block = hashlib.sha256(text.encode()).digest()
    return (block * (100 * 1024 // len(block) + 1))[: 100 * 1024]

def test_speaks(apirec):
    speak("branch")
"""


def test_a_usage_report_lists_its_objects_and_gc_keeps_them_without_the_checkout(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "remote"
    store.mkdir()
    stray = "0" * 64  # stored before the branch's run began, and referred to by nothing
    (store / stray).write_bytes(b"left over")
    time.sleep(0.05)
    setup(pytester)
    pytester.makepyfile(test_branch=BRANCH_TEST)
    monkeypatch.setenv("APIREC_REMOTE", f"file://{store}")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    result = pytester.runpytest("--apirec-mode=record", "--apirec-usage=usage.json")
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "usage.json").read_text())
    assert report["objects"] == [_digest("branch")]
    assert report["body_objects"] == []

    shutil.rmtree(pytester.path / "recordings")  # the branch's checkout is not here
    gone = cli(
        "gc", f"file://{store}", "--usage", str(pytester.path / "usage.json"), "--min-age", "0s"
    )
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert gone.stdout.splitlines() == [
        f"deleted file://{store}/{stray}",
        f"deleted 1 object (9 B) of 2 in file://{store}; kept 1 referenced",
    ]
    assert sorted(os.listdir(store)) == [_digest("branch")]


PRUNED_TEST = """
import hashlib, os
import apirec

@apirec.record(name="tts.speak")
def speak(text):
    block = hashlib.sha256(text.encode()).digest()
    return (block * (100 * 1024 // len(block) + 1))[: 100 * 1024]

def test_speaks(apirec):
    if os.environ.get("PHASE") != "later":
        speak("pruned")
"""


def test_a_test_run_never_deletes_remote_objects_even_when_it_prunes(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "remote"
    setup(pytester)
    pytester.makepyfile(test_pruned=PRUNED_TEST)
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    remote = f"--apirec-remote=file://{store}"
    pytester.runpytest("--apirec-mode=record", remote).assert_outcomes(passed=1)
    assert os.listdir(store) == [_digest("pruned")]

    monkeypatch.setenv("PHASE", "later")
    pruned = pytester.runpytest(remote, "--apirec-prune")
    pruned.assert_outcomes(passed=1)
    pruned.stdout.fnmatch_lines(["*deleted 1 unused recording*"])
    assert list((pytester.path / "recordings").glob("*.json")) == []
    assert os.listdir(store) == [_digest("pruned")]  # only apirec gc deletes it
