"""Large binary values (bytes over 64 KiB) are stored once, in blobs/<sha256> beside the
recordings, referenced from the JSON instead of base64; replay reads and checks them."""

import base64
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

import apirec
from apirec.stores import blobs
from apirec.stores.json_store import TMP_DIR, JsonStore

KIB = 1024


@dataclasses.dataclass
class Speech:
    text: str
    audio: bytes


def _payload(n, seed=b"x"):
    """``n`` bytes that are not all alike (so different seeds give different digests)."""
    block = hashlib.sha256(seed).digest()
    return (block * (n // len(block) + 1))[:n]


@apirec.record(name="tts.speak")
def speak(text, size=100 * KIB, seed=b"x"):
    return _payload(size, seed)


@apirec.record(name="tts.speech")
def speech(text):
    return Speech(text, _payload(200 * KIB, text.encode()))


@apirec.record(name="images.edit")
def edit(image: bytes, prompt: str):
    return {"image": bytearray(image[::-1]), "prompt": prompt}


@apirec.record(name="tts.stream")
def stream(n):
    for i in range(n):
        yield _payload(70 * KIB, bytes([i]))


def _record(tmp_path, fn, *args, **kwargs):
    with apirec.recording(tmp_path, mode="record"):
        result = fn(*args, **kwargs)
        return list(result) if fn is stream else result


def _replay(tmp_path, fn, *args, **kwargs):
    with apirec.recording(tmp_path, mode="replay"):
        result = fn(*args, **kwargs)
        return list(result) if fn is stream else result


def _only_recording(tmp_path):
    (path,) = tmp_path.glob("*.json")
    return path


def _blob_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "blobs").iterdir())


def test_large_bytes_go_to_a_blob_named_by_their_sha256_and_replay_equal(tmp_path):
    recorded = _record(tmp_path, speak, "hello")
    path = _only_recording(tmp_path)
    body = json.loads(path.read_text())["response"]["body"]
    digest = hashlib.sha256(recorded).hexdigest()
    assert body == {"__type__": "builtins.bytes", "__blob__": digest, "size": 100 * KIB}
    assert path.stat().st_size < 1000  # no base64 in the JSON
    assert (tmp_path / "blobs" / digest).read_bytes() == recorded
    replayed = _replay(tmp_path, speak, "hello")
    assert type(replayed) is bytes and replayed == recorded


@pytest.mark.parametrize(("size", "in_blob"), [(64 * KIB, False), (64 * KIB + 1, True)])
def test_only_payloads_over_64_kib_go_to_blobs(tmp_path, size, in_blob):
    recorded = _record(tmp_path, speak, "edge", size=size)
    text = _only_recording(tmp_path).read_text()
    assert ('"__blob__"' in text) is in_blob
    assert (tmp_path / "blobs").exists() is in_blob
    assert _replay(tmp_path, speak, "edge", size=size) == recorded


def test_identical_payloads_share_one_blob_file(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        speak("one")
        speak("two")  # same bytes, another call
        speak("three", seed=b"y")
    assert len(list(tmp_path.glob("*.json"))) == 3
    assert len(_blob_files(tmp_path)) == 2


def test_blobs_inside_dataclasses_arguments_bytearrays_and_streams(tmp_path):
    speech_value = _record(tmp_path, speech, "hi")
    image = _payload(300 * KIB, b"img")
    edited = _record(tmp_path, edit, image, "flip")
    chunks = _record(tmp_path, stream, 3)
    # the dataclass's field, the argument (an upload), the bytearray result, three chunks
    assert len(_blob_files(tmp_path)) == 1 + 1 + 1 + 3
    assert all(p.stat().st_size < 2000 for p in tmp_path.glob("*.json"))
    assert _replay(tmp_path, speech, "hi") == speech_value
    again = _replay(tmp_path, edit, image, "flip")
    assert again == edited and type(again["image"]) is bytearray
    assert _replay(tmp_path, stream, 3) == chunks


def _without_ledger(path: Path) -> bytes:
    """The file's bytes but its ledger's line: what the live call took varies run to run
    (0.000s, or 0.001s on a busy machine)."""
    return b"".join(line for line in path.read_bytes().splitlines(True) if b'"seconds"' not in line)


def test_the_stored_bytes_are_stable(tmp_path):
    _record(tmp_path, speak, "hello")
    path = _only_recording(tmp_path)
    first = _without_ledger(path)
    _record(tmp_path, speak, "hello")  # record mode: written again
    assert _without_ledger(path) == first


def test_an_altered_blob_is_a_store_error_naming_both_files(tmp_path):
    _record(tmp_path, speak, "hello")
    (blob,) = (tmp_path / "blobs").iterdir()
    data = bytearray(blob.read_bytes())
    data[5] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(apirec.StoreError) as caught:
        _replay(tmp_path, speak, "hello")
    message = str(caught.value)
    assert str(_only_recording(tmp_path)) in message and str(blob) in message
    assert "altered" in message


def test_a_missing_blob_is_a_store_error_naming_both_files(tmp_path):
    _record(tmp_path, speak, "hello")
    (blob,) = (tmp_path / "blobs").iterdir()
    blob.unlink()
    with pytest.raises(apirec.StoreError) as caught:
        _replay(tmp_path, speak, "hello")
    message = str(caught.value)
    assert str(_only_recording(tmp_path)) in message and str(blob) in message
    assert "missing" in message


def _with_reference(tmp_path, **changes):
    _record(tmp_path, speak, "hello")
    path = _only_recording(tmp_path)
    entry = json.loads(path.read_text())
    entry["response"]["body"].update(changes)
    path.write_text(json.dumps(entry, indent=2) + "\n")
    return path


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"__blob__": "../../../etc/passwd"}, "must be a sha256 digest"),
        ({"__blob__": "/etc/passwd"}, "must be a sha256 digest"),
        ({"__blob__": "A" * 64}, "must be a sha256 digest"),  # lowercase only: one name each
        ({"__blob__": "a" * 64 + "\n"}, "must be a sha256 digest"),
        ({"__blob__": 7}, "must be a sha256 digest"),
        ({"size": "100"}, "must be a whole number of bytes"),
        ({"__type__": "os.system"}, "only bytes and bytearray"),
        ({"extra": 1}, "exactly the keys"),
    ],
)
def test_a_malformed_reference_is_refused_without_reading_anything(tmp_path, changes, problem):
    path = _with_reference(tmp_path, **changes)
    with pytest.raises(apirec.StoreError) as caught:
        _replay(tmp_path, speak, "hello")
    assert str(path) in str(caught.value) and "malformed" in str(caught.value)
    assert problem in str(caught.value)
    assert "$.response.body" in str(caught.value)


def test_a_symlink_in_blobs_is_refused_even_with_the_right_content(tmp_path):
    recorded = _record(tmp_path, speak, "hello")
    (blob,) = (tmp_path / "blobs").iterdir()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-outside"
    elsewhere.write_bytes(recorded)
    blob.unlink()
    blob.symlink_to(elsewhere)
    with pytest.raises(apirec.StoreError, match="symbolic link"):
        _replay(tmp_path, speak, "hello")


def test_a_blob_that_cannot_be_written_leaves_no_recording(tmp_path):
    (tmp_path / "blobs").write_text("a file where the directory should be")
    with pytest.raises(apirec.StoreError, match="could not be stored"):
        _record(tmp_path, speak, "hello")
    assert list(tmp_path.glob("*.json")) == []
    tmp = tmp_path / TMP_DIR  # removed at close when empty
    assert not tmp.exists() or os.listdir(tmp) == []


def test_data_that_only_looks_like_a_bytes_envelope_comes_back_as_it_was(tmp_path):
    text = base64.b64encode(_payload(80 * KIB)).decode()
    value = {"__type__": "builtins.bytes", "__data__": text}  # a plain dict, escaped

    @apirec.record(name="odd")
    def odd():
        return value

    with apirec.recording(tmp_path, mode="record"):
        odd()
    with apirec.recording(tmp_path, mode="replay"):
        assert odd() == value


def test_recordings_without_blobs_are_never_walked(tmp_path, monkeypatch):
    with apirec.recording(tmp_path, mode="record"):
        speak("small", size=10)

    def walk(*args):
        raise AssertionError("walked a recording that has no blob")

    monkeypatch.setattr(blobs, "join", walk)
    monkeypatch.setattr(blobs, "split", walk)
    store = JsonStore(tmp_path)
    ((key, index, _),) = store.entries()
    assert store.read(key, index)["response"]["body"]["__type__"] == "builtins.bytes"
    assert _replay(tmp_path, speak, "small", size=10) == _payload(10)


def test_a_blobs_directory_that_is_a_symlink_is_never_written_through(tmp_path):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (tmp_path / "blobs").symlink_to(elsewhere)
    with pytest.raises(apirec.StoreError, match="a symbolic link, not a blobs directory"):
        _record(tmp_path, speak, "hello")
    assert list(elsewhere.iterdir()) == []


RANDOM = os.urandom(100 * KIB)


@apirec.record(name="tts.random")
def noise(text):
    return RANDOM


def test_the_msgpack_store_keeps_large_bytes_in_its_one_file_once(tmp_path):
    with apirec.recording(tmp_path, mode="record", store="msgpack"):
        noise("one")
        noise("two")
    assert not (tmp_path / "blobs").exists()
    size = (tmp_path / "recordings.apirec").stat().st_size
    assert 100 * KIB < size < 150 * KIB  # one copy (random bytes do not compress)
    with apirec.recording(tmp_path, mode="replay", store="msgpack"):
        assert noise("two") == RANDOM


@apirec.record(name="tts.repeat")
def repeat(n):
    for _ in range(n):
        yield _payload(70 * KIB, b"same")


def test_a_payload_repeated_in_one_recording_is_one_blob(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        chunks = list(repeat(5))
    assert len(_blob_files(tmp_path)) == 1
    with apirec.recording(tmp_path, mode="replay"):
        again = list(repeat(5))
    assert again == chunks and len({id(c) for c in again}) == 5  # fresh objects each


# -- an expired answer recorded again in place (issue 18, A3) ----------------------------------

VOICE = {"seed": b"old"}  # what the next real call of `voice` says


@apirec.record(name="tts.voice")
def voice(text):
    return _payload(100 * KIB, VOICE["seed"])


def _make_old(path):
    entry = json.loads(path.read_text())
    entry["recorded_at"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(entry, indent=2) + "\n")


def _rerecord_expired(tmp_path, store="json"):
    VOICE["seed"] = b"new"
    with apirec.recording(
        tmp_path, mode="record-if-missing", max_age="30d", on_expired="record", store=store
    ) as rec:
        assert voice("hi") == _payload(100 * KIB, b"new")
    assert rec.stats.recorded == 1


def test_an_answer_recorded_again_in_place_keeps_its_bytes_in_a_blob(tmp_path):
    VOICE["seed"] = b"old"
    _record(tmp_path, voice, "hi")
    path = _only_recording(tmp_path)
    (old,) = _blob_files(tmp_path)
    _make_old(path)
    _rerecord_expired(tmp_path)
    assert path.stat().st_size < 1000  # a reference, not 100 KiB of base64
    new = hashlib.sha256(_payload(100 * KIB, b"new")).hexdigest()
    assert json.loads(path.read_text())["response"]["body"]["__blob__"] == new
    assert _blob_files(tmp_path) == [new]  # the blob only the old answer used went with it
    assert old != new
    assert _replay(tmp_path, voice, "hi") == _payload(100 * KIB, b"new")


def test_a_blob_another_recording_shares_stays_when_one_is_recorded_again(tmp_path):
    VOICE["seed"] = b"old"
    with apirec.recording(tmp_path, mode="record"):
        voice("hi")
        speak("same bytes", size=100 * KIB, seed=b"old")  # the very same payload: one blob
    (shared,) = _blob_files(tmp_path)
    (path,) = [p for p in tmp_path.glob("*.json") if "tts.voice" in p.read_text()]
    _make_old(path)
    _rerecord_expired(tmp_path)
    new = hashlib.sha256(_payload(100 * KIB, b"new")).hexdigest()
    assert _blob_files(tmp_path) == sorted([shared, new])
    assert _replay(tmp_path, speak, "same bytes", size=100 * KIB, seed=b"old") == _payload(
        100 * KIB, b"old"
    )


def test_the_msgpack_store_records_an_expired_answer_again_through_its_one_pipeline(tmp_path):
    from apirec.stores.convert import convert

    VOICE["seed"] = b"old"
    json_dir, run_dir = tmp_path / "json", tmp_path / "msgpack"
    _record(json_dir, voice, "hi")
    _make_old(_only_recording(json_dir))
    convert(json_dir, run_dir, to="msgpack")
    _rerecord_expired(run_dir, store="msgpack")
    with apirec.recording(run_dir, mode="replay", store="msgpack"):
        assert voice("hi") == _payload(100 * KIB, b"new")
    back = tmp_path / "back"
    convert(run_dir, back, to="json")  # converted back: a reference and its one blob
    new = hashlib.sha256(_payload(100 * KIB, b"new")).hexdigest()
    assert _blob_files(back) == [new]
    assert _only_recording(back).stat().st_size < 1000
