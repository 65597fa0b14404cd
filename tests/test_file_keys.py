"""Files given as arguments are keyed by base name and content (apirec.keys.files).

Through the real openai client's ``files.create`` against the fake of tests/openai_server.py:
an upload recorded from one temporary directory replays from another, a changed file misses,
and the caller's file position is where it was.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import apirec
from apirec import integrations


def _write(directory: Path, content: bytes, name: str = "notes.jsonl") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return path


def _upload(client, how: str, path: Path):
    if how == "path":
        return client.files.create(file=path, purpose="batch")
    with open(path, "rb") as f:
        return client.files.create(file=f, purpose="batch")


@pytest.mark.parametrize("how", ["open", "path"])
def test_an_upload_replays_from_another_directory(
    how, openai_server, store_dir, tmp_path, make_client, closed_url
):
    first = _write(tmp_path / "one", b'{"a": 1}\n')
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        live = _upload(make_client(openai_server.base_url, is_async=False), how, first)
    assert live.filename == "notes.jsonl" and live.bytes == 9
    served = openai_server.requests

    second = _write(tmp_path / "two", b'{"a": 1}\n')  # the same file, elsewhere
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        replayed = _upload(make_client(closed_url, is_async=False), how, second)
    assert replayed == live and openai_server.requests == served
    stored = "".join(p.read_text() for p in store_dir.rglob("*.json"))
    assert str(tmp_path) not in stored  # no absolute path of this machine stored


@pytest.mark.parametrize("how", ["open", "path"])
def test_a_changed_file_is_another_call(how, openai_server, store_dir, tmp_path, make_client):
    path = _write(tmp_path / "one", b'{"a": 1}\n')
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        _upload(make_client(openai_server.base_url, is_async=False), how, path)
    path.write_bytes(b'{"a": 2}\n')
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        with pytest.raises(apirec.RecordingNotFound):
            _upload(make_client(openai_server.base_url, is_async=False), how, path)


def test_the_callers_file_position_is_kept(store_dir, tmp_path):
    path = _write(tmp_path, b"header\n" + b"x" * 100)

    @apirec.record
    def rest(f):
        return f.read()

    with apirec.recording(store_dir, mode="record"), open(path, "rb") as f:
        f.readline()  # the caller reads on from after its header
        assert rest(f) == b"x" * 100  # apirec read the file for its key, and put it back
    with apirec.recording(store_dir, mode="replay"), open(path, "rb") as f:
        f.readline()
        assert rest(f) == b"x" * 100
        assert f.tell() == 7  # replay read it, and left it where the caller had it
        f.seek(0)
        with pytest.raises(apirec.RecordingNotFound):  # from elsewhere: another call
            rest(f)


def test_files_in_keys_of_any_recorded_function(store_dir, tmp_path):
    calls = []

    @apirec.record
    def digest(f, where):
        calls.append(1)
        return len(f.read())

    path = _write(tmp_path, b"abc")
    with apirec.recording(store_dir, mode="record"):
        assert digest(io.BytesIO(b"abc"), tmp_path / "out") == 3
        with open(path, "rb") as f:
            assert digest(f, tmp_path / "out") == 3
    with apirec.recording(store_dir, mode="replay"):
        assert digest(io.BytesIO(b"abc"), tmp_path / "out") == 3
    assert calls == [1, 1]
