"""The command line and both prunes know blobs/: ls counts them, verify checks them, convert
carries them both ways, and a blob no recording refers to goes with the recordings."""

import hashlib
import json
import os
import subprocess
import sys

import pytest

import apirec

from .plugin_helpers import setup

KIB = 1024


def _payload(n, seed):
    block = hashlib.sha256(seed).digest()
    return (block * (n // len(block) + 1))[:n]


@apirec.record(name="tts.speak")
def speak(text, seed=b"x"):
    return _payload(100 * KIB, seed)


@apirec.record(name="tts.small")
def small(text):
    return {"text": text}


def _cli(*argv, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "apirec", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def store(tmp_path):
    """Three recordings sharing one blob ("a" and "b"), one with its own ("c"), one without."""
    root = tmp_path / "recs"
    with apirec.recording(root, mode="record"):
        with apirec.test_context("tests/test_x.py::test_a"):
            speak("a")
        with apirec.test_context("tests/test_x.py::test_b"):
            speak("b")
        with apirec.test_context("tests/test_x.py::test_c"):
            speak("c", seed=b"y")
            small("c")
    return root


def _blobs(root):
    return sorted(p.name for p in (root / "blobs").iterdir())


def test_ls_sizes_include_the_blobs_and_the_total_counts_a_shared_blob_once(store):
    done = _cli("ls", "--json", str(store))
    assert done.returncode == 0, done.stderr
    rows = {(r["test_id"], r["function"]): r for r in json.loads(done.stdout)}
    a = rows[("tests/test_x.py::test_a", "tts.speak")]
    on_disk = os.path.getsize(a["path"])
    assert a["size"] == on_disk + 100 * KIB
    assert a["blobs"] == [hashlib.sha256(_payload(100 * KIB, b"x")).hexdigest()]
    assert rows[("tests/test_x.py::test_c", "tts.small")]["blobs"] == []
    done = _cli("ls", str(store))
    files = sum(p.stat().st_size for p in store.glob("*.json"))
    expected = (files + 2 * 100 * KIB) / 1024
    assert done.stdout.splitlines()[-1] == f"4 recordings, {expected:.1f} KB (2 blobs)"


def test_verify_checks_every_blob_and_names_both_files(store):
    done = _cli("verify", str(store))
    assert done.returncode == 0, done.stdout
    assert "4 recordings checked, 0 problems" in done.stdout
    shared = store / "blobs" / hashlib.sha256(_payload(100 * KIB, b"x")).hexdigest()
    shared.write_bytes(shared.read_bytes()[:-1] + b"!")
    other = store / "blobs" / hashlib.sha256(_payload(100 * KIB, b"y")).hexdigest()
    other.unlink()
    done = _cli("verify", str(store))
    assert done.returncode == 1
    problems = [line for line in done.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 3  # two recordings refer to the altered blob, one to the missing
    assert sum(str(shared) in p and "altered" in p for p in problems) == 2
    assert sum(str(other) in p and "missing" in p for p in problems) == 1
    assert all(".json" in p for p in problems)  # each names its recording


def test_verify_lists_blobs_no_recording_refers_to(store):
    (store / "blobs" / ("0" * 64)).write_bytes(b"left over")
    done = _cli("verify", str(store))
    assert done.returncode == 0
    assert "1 blob no recording refers to" in done.stdout


def test_show_says_where_the_bytes_are(store):
    (path,) = [p for p in store.glob("*.json") if "test_a" in p.read_text()]
    done = _cli("show", str(path))
    assert done.returncode == 0, done.stderr
    assert "returned:  bytes(<102400 bytes in blobs/" in done.stdout


def test_convert_carries_blobs_into_msgpack_and_back_byte_for_byte(store, tmp_path):
    packed, back = tmp_path / "packed", tmp_path / "back"
    done = _cli("convert", str(store), str(packed), "--to", "msgpack")
    assert done.returncode == 0, done.stderr
    assert not (packed / "blobs").exists()  # one file: the msgpack store keeps them inline
    replay = apirec.recording(packed, mode="replay", store="msgpack")
    with replay, apirec.test_context("tests/test_x.py::test_c"):
        assert speak("c", seed=b"y") == _payload(100 * KIB, b"y")
    done = _cli("convert", str(packed), str(back), "--to", "json")
    assert done.returncode == 0, done.stderr
    for path in store.glob("*.json"):
        assert (back / path.name).read_bytes() == path.read_bytes()
    assert _blobs(back) == _blobs(store)
    for name in _blobs(store):
        assert (back / "blobs" / name).read_bytes() == (store / "blobs" / name).read_bytes()
    assert _cli("verify", str(back)).returncode == 0


def test_convert_names_a_missing_blob(store, tmp_path):
    for blob in (store / "blobs").iterdir():
        blob.unlink()
    done = _cli("convert", str(store), str(tmp_path / "packed"), "--to", "msgpack")
    assert done.returncode == 1
    assert "blobs" in done.stderr and "missing" in done.stderr


def test_prune_keeps_a_shared_blob_and_deletes_one_no_recording_refers_to(store):
    before = _blobs(store)
    done = _cli("prune", str(store), "--test", "test_a")
    assert done.returncode == 0, done.stderr
    assert _blobs(store) == before  # test_b still refers to it
    done = _cli("prune", str(store), "--test", "test_c", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would delete 2 recordings" in done.stdout
    assert "would delete 1 blob no recording refers to" in done.stdout
    assert _blobs(store) == before
    done = _cli("prune", str(store), "--test", "test_c")
    assert "deleted 1 blob no recording refers to" in done.stdout
    assert _blobs(store) == [hashlib.sha256(_payload(100 * KIB, b"x")).hexdigest()]
    _cli("prune", str(store), "--test", "test_b")
    assert _blobs(store) == []


def test_prune_keeps_every_blob_when_a_recording_cannot_be_read(store):
    before = _blobs(store)
    # cut short: which blob it refers to is unknown (a file without "__blob__" refers to none)
    (store / "broken.json").write_text('{"response": {"body": {"__blob__": "8a')
    done = _cli("prune", str(store), "--test", "test_c")
    assert done.returncode == 1
    assert "the blobs in" in done.stderr and "broken.json cannot be read" in done.stderr
    assert _blobs(store) == before


TESTS = """
import hashlib, os, apirec
LATER = os.environ.get("PHASE") == "later"

@apirec.record(name="tts.speak")
def speak(text):
    return hashlib.sha256(text.encode()).digest() * 4000

def test_speaks(apirec):
    speak("kept")
    if not LATER:
        speak("dropped")
"""


def test_plugin_prune_deletes_the_blobs_of_the_recordings_it_deletes(pytester, monkeypatch):
    setup(pytester)
    pytester.makepyfile(test_speech=TESTS)
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    assert len(_blobs(pytester.path / "recordings")) == 2
    monkeypatch.setenv("PHASE", "later")
    result = pytester.runpytest("--apirec-prune")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["apirec: 1 replayed, *; deleted 1 unused recording and 1 blob no recording refers to"]
    )
    kept = hashlib.sha256(hashlib.sha256(b"kept").digest() * 4000).hexdigest()
    assert _blobs(pytester.path / "recordings") == [kept]
    pytester.runpytest().assert_outcomes(passed=1)


def test_sharded_prune_deletes_the_blobs_of_the_recordings_it_deletes(pytester, monkeypatch):
    setup(pytester)
    pytester.makepyfile(test_speech=TESTS)
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    monkeypatch.setenv("PHASE", "later")
    pytester.runpytest("--apirec-usage=usage.json").assert_outcomes(passed=1)
    done = _cli("prune", "recordings", "--usage", "usage.json", cwd=pytester.path)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 recording" in done.stdout
    assert "deleted 1 blob no recording refers to" in done.stdout
    assert len(_blobs(pytester.path / "recordings")) == 1


def test_plugin_prune_deletes_an_unused_recording_whose_blob_is_missing(pytester, monkeypatch):
    setup(pytester)
    pytester.makepyfile(test_speech=TESTS)
    monkeypatch.setenv("PHASE", "record")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    dropped = hashlib.sha256(hashlib.sha256(b"dropped").digest() * 4000).hexdigest()
    (pytester.path / "recordings" / "blobs" / dropped).unlink()
    monkeypatch.setenv("PHASE", "later")
    result = pytester.runpytest("--apirec-prune")
    result.stdout.fnmatch_lines(["apirec: *; deleted 1 unused recording"])
    assert len(list((pytester.path / "recordings").glob("*.json"))) == 1


def test_prune_deletes_blobs_left_where_no_recording_is_left(store):
    gone = store / "old"
    (gone / "blobs").mkdir(parents=True)
    (gone / "blobs" / ("1" * 64)).write_bytes(b"of a recording deleted by hand")
    (store / "blobs" / ("2" * 64)).write_bytes(b"of a recording recorded again")
    (store / "blobs" / "notes.txt").write_text("not a blob: never touched")
    done = _cli("prune", str(store), "--test", "no-such-test")
    assert done.returncode == 0, done.stderr
    assert "deleted 0 recordings" in done.stdout
    assert "deleted 2 blobs no recording refers to" in done.stdout
    assert list((gone / "blobs").iterdir()) == []
    assert "notes.txt" in _blobs(store) and len(_blobs(store)) == 3
