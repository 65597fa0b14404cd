"""Issue 20 (new user): uploads from temporary files replay, and openai's ``(name, bytes)``
upload keys like the file it names (apirec.keys.files, apirec.integrations.stainless_uploads).

``tempfile`` makes up a new base name for each file (``tmp1u1h_hwi.jsonl``): keyed by it, an
upload recorded in one run missed in every later one, and each record run added a recording.
Through the real openai client's ``files.create`` against the fake of tests/openai_server.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import apirec
from apirec import integrations

CONTENT = b'{"x": 1}\n'


@contextlib.contextmanager
def temporary_upload(how: str, content: bytes = CONTENT, suffix: str = ".jsonl") -> Iterator:
    """An upload of a file that tempfile named, given the three usual ways."""
    if how == "mkstemp":
        fd, name = tempfile.mkstemp(suffix=suffix)
        try:
            os.write(fd, content)
            os.close(fd)
            yield Path(name)
        finally:
            os.unlink(name)
        return
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(content)
        f.flush()
        f.seek(0)
        if how == "named":  # the SDK takes its io object, not tempfile's wrapper
            yield f.file
        else:
            with open(f.name, "rb") as opened:
                yield opened


def _stored(store_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(store_dir.rglob("*.json"))]


@pytest.mark.parametrize("how", ["named", "open", "mkstemp"])
def test_an_upload_of_a_temporary_file_replays_in_the_next_run(
    how, openai_server, store_dir, make_client, closed_url
):
    with apirec.recording(store_dir, mode="record") as rec, temporary_upload(how) as file:
        integrations.patch(rec, "openai")
        live = make_client(openai_server.base_url, is_async=False).files.create(
            file=file, purpose="batch"
        )
    assert live.filename.startswith("tmp") and live.filename.endswith(".jsonl")
    served = openai_server.requests

    # the next run: the same content in a new temporary file, whose name tempfile made up anew
    with apirec.recording(store_dir, mode="replay") as rec, temporary_upload(how) as file:
        integrations.patch(rec, "openai")
        replayed = make_client(closed_url, is_async=False).files.create(file=file, purpose="batch")
    assert replayed == live and openai_server.requests == served
    # record-if-missing runs add nothing: before, each added a recording under a new key
    for _ in range(2):
        with apirec.recording(store_dir, mode="record-if-missing") as rec:
            integrations.patch(rec, "openai")
            with temporary_upload(how) as file:
                make_client(closed_url, is_async=False).files.create(file=file, purpose="batch")
    [stored] = _stored(store_dir)
    assert stored["request"]["args"]["file"]["file"] == "tmp*.jsonl"


def test_a_temporary_file_is_keyed_by_its_suffix_and_content(openai_server, store_dir, make_client):
    with apirec.recording(store_dir, mode="record") as rec, temporary_upload("open") as file:
        integrations.patch(rec, "openai")
        make_client(openai_server.base_url, is_async=False).files.create(file=file, purpose="batch")
    for changed in ({"suffix": ".json"}, {"content": b'{"x": 2}\n'}):
        with apirec.recording(store_dir, mode="replay") as rec:
            integrations.patch(rec, "openai")
            with (
                temporary_upload("open", **changed) as file,
                pytest.raises(apirec.RecordingNotFound),
            ):
                make_client(openai_server.base_url, is_async=False).files.create(
                    file=file, purpose="batch"
                )


@pytest.mark.parametrize(
    "names", [("data.jsonl", "other.jsonl"), ("tmp_settings.json", "tmp_settingz.json")]
)
def test_a_name_the_user_chose_keeps_its_name_in_the_key(
    names, openai_server, store_dir, make_client, tmp_path
):
    recorded, other = (tmp_path / name for name in names)
    recorded.write_bytes(CONTENT)
    other.write_bytes(CONTENT)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        make_client(openai_server.base_url, is_async=False).files.create(
            file=recorded, purpose="batch"
        )
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        with pytest.raises(apirec.RecordingNotFound):
            make_client(openai_server.base_url, is_async=False).files.create(
                file=other, purpose="batch"
            )
    [stored] = _stored(store_dir)
    assert stored["request"]["args"]["file"]["file"] == names[0]


def test_a_name_and_bytes_upload_keys_like_the_file_it_names(
    openai_server, store_dir, make_client, closed_url, tmp_path
):
    path = tmp_path / "train.jsonl"
    path.write_bytes(CONTENT)
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "openai")
        live = make_client(openai_server.base_url, is_async=False).files.create(
            file=path, purpose="fine-tune"
        )
    served = openai_server.requests
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        client = make_client(closed_url, is_async=False)
        as_tuple = client.files.create(file=("train.jsonl", CONTENT), purpose="fine-tune")
        with pytest.raises(apirec.RecordingNotFound):  # with a content type: as before
            client.files.create(
                file=("train.jsonl", CONTENT, "application/jsonl"), purpose="fine-tune"
            )
    assert as_tuple == live and openai_server.requests == served

    # recorded as a tuple: stored as the file's name and digest, not its bytes in base64
    store_dir_2 = tmp_path / "tuple"
    with apirec.recording(store_dir_2, mode="record") as rec:
        integrations.patch(rec, "openai")
        make_client(openai_server.base_url, is_async=False).files.create(
            file=("train.jsonl", CONTENT), purpose="fine-tune"
        )
    [stored] = _stored(store_dir_2)
    assert stored["request"]["args"]["file"] == _stored(store_dir)[0]["request"]["args"]["file"]


def test_a_name_and_bytes_pair_elsewhere_is_keyed_as_before(store_dir, tmp_path):
    # only an SDK's file parameter reads a (name, bytes) pair as a file: a recorded function's
    # pair stays a pair (its keys and its recordings unchanged)
    @apirec.record
    def label(pair: tuple[str, bytes]) -> int:
        return len(pair[1])

    path = tmp_path / "train.jsonl"
    path.write_bytes(CONTENT)
    with apirec.recording(store_dir, mode="record"):
        assert label(("train.jsonl", CONTENT)) == len(CONTENT)
    with apirec.recording(store_dir, mode="replay"):
        assert label(("train.jsonl", CONTENT)) == len(CONTENT)
        with pytest.raises(apirec.RecordingNotFound):
            label(path)  # type: ignore[arg-type]
    [stored] = _stored(store_dir)
    assert stored["request"]["args"]["pair"][0] == "train.jsonl"


@pytest.mark.parametrize(
    ("name", "keyed"),
    [
        ("tmp1u1h_hwi.jsonl", "tmp*.jsonl"),  # NamedTemporaryFile(suffix=".jsonl")
        ("tmpk2_x9q0a", "tmp*"),  # no suffix
        ("tmpabcdefgh.tar.gz", "tmp*.tar.gz"),
        ("tmp_settings.json", "tmp_settings.json"),  # chosen: what follows is no suffix
        ("tmpABCDEFGH.json", "tmpABCDEFGH.json"),  # upper case: not tempfile's alphabet
        ("tmpabc.json", "tmpabc.json"),  # too short
        ("data_abcdefgh.json", "data_abcdefgh.json"),  # another prefix: kept (documented)
    ],
)
def test_which_names_are_tempfiles(name, keyed, store_dir, tmp_path):
    @apirec.record
    def size(path: Path) -> int:
        return path.stat().st_size

    path = tmp_path / name
    path.write_bytes(CONTENT)
    with apirec.recording(store_dir, mode="record"):
        size(path)
    [stored] = _stored(store_dir)
    assert stored["request"]["args"]["path"]["file"] == keyed


def test_a_name_and_bytes_upload_recorded_before_still_replays(
    openai_server, store_dir, make_client, closed_url
):
    # as the integration keyed it before: the method under its name, the tuple as a pair
    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch("openai.resources.files.Files.create", name="openai.files.create")
        live = make_client(openai_server.base_url, is_async=False).files.create(
            file=("train.jsonl", CONTENT), purpose="fine-tune"
        )
    [stored] = _stored(store_dir)
    assert stored["request"]["args"]["file"][1]["__type__"] == "builtins.bytes"
    served = openai_server.requests
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "openai")
        replayed = make_client(closed_url, is_async=False).files.create(
            file=("train.jsonl", CONTENT), purpose="fine-tune"
        )
    assert replayed == live and openai_server.requests == served
