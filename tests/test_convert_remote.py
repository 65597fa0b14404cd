"""``apirec convert`` on recordings that keep large payloads in a remote store: references
kept both ways (never inlined, never lost, nothing downloaded), the remote found as every
command finds it, and ``--upload`` moving local payloads to it. Against a ``file://``
directory and moto's S3 server on 127.0.0.1, each command run in its own process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import apirec
from apirec.stores.json_store import dumps
from apirec.stores.msgpack.writer import FILE_NAME
from tests.test_cli_remote import KIB, _payload, cli, speak

pytest.importorskip("obstore")


@apirec.record(name="docs.fetch")
def fetch(name: str) -> dict:
    return {"name": name, "pages": [f"{name} lorem ipsum " * 30 for _ in range(300)]}


def _calls() -> None:
    with apirec.test_context("tests/test_tts.py::test_speak"):
        assert speak("hello") == _payload("hello")
    with apirec.test_context("tests/test_docs.py::test_fetch"):
        assert len(fetch("manual")["pages"]) == 300


@pytest.fixture(params=["file", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The remote's URL: a ``file://`` directory, or a bucket of moto's S3 server."""
    if request.param == "file":
        return (tmp_path / "objects").as_uri()
    return str(request.getfixturevalue("s3_server").remote_url)


def _objects(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_references_are_kept_both_ways_and_nothing_is_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote: str
) -> None:
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "recording-cache"))
    recs = tmp_path / "checkout" / "recs"
    with apirec.recording(recs, mode="record", remote=remote):
        _calls()
    originals = {p.name: p.read_bytes() for p in recs.glob("*.json")}
    assert len(originals) == 2 and not (recs / "blobs").exists()  # both on the remote
    checkout, cache = recs.parent, tmp_path / "convert-cache"

    # no remote known: a reference not in blobs/ could be a lost blob; nothing is written
    lost = cli("convert", "recs", "mp", "--to", "msgpack", cwd=checkout, cache=cache)
    assert lost.returncode == 1, lost
    assert "not in" in lost.stderr and "--remote, ini apirec_remote or APIREC_REMOTE" in (
        lost.stderr
    )
    assert not (checkout / "mp" / FILE_NAME).exists()

    # the remote from the environment, as pull finds it: the references kept, no download
    done = cli(
        "convert", "recs", "mp", "--to", "msgpack", cwd=checkout, cache=cache, APIREC_REMOTE=remote
    )
    assert done.returncode == 0, done
    assert (checkout / "mp" / FILE_NAME).stat().st_size < 64 * KIB  # not inlined
    assert _objects(cache) == []

    # replay from the msgpack store, through a fresh cache
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "replay-cache"))
    with apirec.recording(checkout / "mp", store="msgpack", mode="replay", remote=remote):
        _calls()
    assert len(_objects(tmp_path / "replay-cache")) == 2

    # and back: every file as it was, byte for byte, references and all
    back = cli("convert", "mp", "back", "--to", "json", cwd=checkout, cache=cache)
    assert back.returncode == 0, back
    assert {p.name: p.read_bytes() for p in (checkout / "back").glob("*.json")} == originals
    assert not (checkout / "back" / "blobs").exists()


def test_the_remote_of_the_ini_file_is_found_and_the_command_line_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "recording-cache"))
    remote = (tmp_path / "objects").as_uri()
    recs = tmp_path / "checkout" / "recs"
    with apirec.recording(recs, mode="record", remote=remote):
        _calls()
    checkout, cache = recs.parent, tmp_path / "cache"
    (checkout / "pytest.ini").write_text(f"[pytest]\napirec_remote = {remote}\n")
    done = cli("convert", "recs", "mp", "--to", "msgpack", cwd=checkout, cache=cache)
    assert done.returncode == 0, done
    # --remote "" (none) before the ini's: the references cannot be told from lost blobs
    none = cli(
        "convert", "recs", "mp2", "--to", "msgpack", "--remote", "", cwd=checkout, cache=cache
    )
    assert none.returncode == 1 and "give its URL" in none.stderr, none


def test_upload_moves_local_payloads_to_the_remote_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote: str
) -> None:
    """Recorded before the remote was set: the bytes in blobs/, the large body inline."""
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "recording-cache"))
    recs = tmp_path / "checkout" / "recs"
    with apirec.recording(recs, mode="record"):
        _calls()
    assert len(_objects(recs / "blobs")) == 1
    checkout, cache = recs.parent, tmp_path / "cache"

    args = ("convert", "recs", "mp", "--to", "msgpack", "--upload", "--remote", remote)
    done = cli(*args, cwd=checkout, cache=cache)
    assert done.returncode == 0, done
    assert f"payloads over 64 KiB are kept in {remote}" in done.stdout
    assert (checkout / "mp" / FILE_NAME).stat().st_size < 64 * KIB  # the body and bytes moved

    # the source's blobs/ gone, a fresh cache: the payloads come from the remote
    (recs / "blobs" / next(iter(os.listdir(recs / "blobs")))).unlink()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "replay-cache"))
    with apirec.recording(checkout / "mp", store="msgpack", mode="replay", remote=remote):
        _calls()
    assert len(_objects(tmp_path / "replay-cache")) == 2  # the bytes, and the body object

    # a msgpack store recorded without the remote keeps large payloads in its file: to JSON
    # with --upload, they go to the remote instead of blobs/
    packed = checkout / "packed"
    with apirec.recording(packed, store="msgpack", mode="record"):
        _calls()
    args = ("convert", "packed", "unpacked", "--to", "json", "--upload", "--remote", remote)
    done = cli(*args, cwd=checkout, cache=cache)
    assert done.returncode == 0, done
    files = list((checkout / "unpacked").glob("*.json"))
    assert len(files) == 2 and not (checkout / "unpacked" / "blobs").exists()
    assert all(len(p.read_bytes()) < 64 * KIB for p in files)
    bodies = [json.loads(p.read_bytes())["response"]["body"] for p in files]
    assert {b["__type__"] for b in bodies} == {"builtins.bytes", "apirec.json"}
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "replay-cache-2"))
    with apirec.recording(checkout / "unpacked", mode="replay", remote=remote):
        _calls()


@pytest.mark.parametrize(
    ("remote", "message"),
    [
        (None, "convert --upload: no remote store"),
        ("https://example.com/apirec", "is read-only; upload to the store it mirrors"),
        ("ftp://example.com/apirec", "convert: "),
    ],
)
def test_upload_needs_a_writable_remote(tmp_path: Path, remote: str | None, message: str) -> None:
    (tmp_path / "recs").mkdir()
    given = ["--remote", remote] if remote else []
    done = cli(
        "convert", "recs", "mp", "--to", "msgpack", "--upload", *given,
        cwd=tmp_path, cache=tmp_path / "cache",
    )  # fmt: skip
    assert done.returncode == 2 and message in done.stderr, done


def test_upload_passes_the_write_gate_before_anything_leaves(tmp_path: Path) -> None:
    """A secret in a body written by an older version (or by hand) never reaches the remote."""
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
    body = {"pages": ["lorem ipsum " * 20] * 400, "leak": f"Authorization: Bearer {key}"}
    recs = tmp_path / "recs"
    recs.mkdir()
    name = "0123456789abcdef0123456789abcdef"
    entry = {
        "request": {"function": "docs.fetch", "args": {"n": "x"}, "key": name},
        "response": {"body": body, "is_streaming": False},
        "id_normalization_mapping": {},
    }
    (recs / f"{name}.json").write_bytes(dumps(entry))  # as apirec writes a file
    objects = tmp_path / "objects"
    args = ("convert", "recs", "mp", "--to", "msgpack", "--upload", "--remote", objects.as_uri())
    done = cli(*args, cwd=tmp_path, cache=tmp_path / "cache")
    assert done.returncode == 0, done
    (uploaded,) = _objects(objects)
    assert b"lorem ipsum" in uploaded.read_bytes() and key[:12].encode() not in (
        uploaded.read_bytes()
    )
    assert not any(key[:12].encode() in p.read_bytes() for p in _objects(tmp_path / "cache"))
