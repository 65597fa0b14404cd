"""Damage in a msgpack store file: reads change nothing and fail naming the file and the byte;
``apirec verify`` reports it; ``apirec repair`` drops it, keeping a backup and saying what.

Each test records a real store through the public API, then flips one bit at a known offset.
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main
from apirec.stores.msgpack import frames
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore

N = 20

calls: list[int] = []


@apirec.record(name="damage.ask")
def ask(i: int) -> dict[str, object]:
    calls.append(i)
    return {"i": i, "text": f"answer number {i} " * 5}


def record_store(root: Path) -> Path:
    with apirec.recording(root, mode="record", store="msgpack"):
        for i in range(N):
            ask(i)
    return root / FILE_NAME


def frame_offsets(path: Path) -> list[int]:
    """Where each frame starts, walking the heads of an intact file."""
    raw = path.read_bytes()
    offsets, offset = [], frames.HEADER_SIZE
    while offset < len(raw):
        offsets.append(offset)
        offset += frames.FRAME_HEAD.size + struct.unpack_from(">I", raw, offset)[0]
    return offsets


def flip(path: Path, offset: int, bit: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 1 << bit
    path.write_bytes(bytes(raw))


# (what, byte within the frame, bit): the length field's top byte (runs past the end of the
# file), its last byte (the checksum no longer matches), and a byte of the payload
FLIPS = [("length-high", 0, 7), ("length-low", 3, 0), ("payload", 30, 3)]


@pytest.mark.parametrize(("what", "at", "bit"), FLIPS, ids=[f[0] for f in FLIPS])
@pytest.mark.parametrize("mode", ["replay", "record-if-missing"])
def test_a_flipped_bit_fails_every_read_and_changes_no_byte(tmp_path, what, at, bit, mode):
    path = record_store(tmp_path / "recs")
    assert len(frame_offsets(path)) == N
    third = frame_offsets(path)[2]
    flip(path, third + at, bit)
    damaged = path.read_bytes()
    calls.clear()
    with (
        pytest.raises(apirec.StoreError) as caught,
        apirec.recording(tmp_path / "recs", mode=mode, store="msgpack"),
    ):
        ask(0)  # an intact answer: the damaged frame might have replaced it
    message = str(caught.value)
    assert str(path) in message and f"byte {third}" in message, message
    assert "apirec repair" in message
    assert calls == []  # record-if-missing did not call the real service
    assert path.read_bytes() == damaged, "a read changed the store file"
    assert sorted(os.listdir(path.parent)) == [FILE_NAME]


def test_writers_refuse_a_damaged_store_and_leave_it_as_it_is(tmp_path):
    path = record_store(tmp_path / "recs")
    third = frame_offsets(path)[2]
    flip(path, third, 7)
    damaged = path.read_bytes()
    store = MsgpackStore(path.parent)
    with pytest.raises(apirec.StoreError, match=rf"byte {third}"):
        store.write("k", {"response": {"body": 1}})
    with pytest.raises(apirec.StoreError, match=rf"byte {third}"):
        store.compact()
    assert path.read_bytes() == damaged


def torn(path: Path) -> tuple[int, bytes]:
    """Append half of a frame for key ``torn-key``, as a writer that died leaves it."""
    frame = frames.pack_frame(
        frames.Frame(frames.ENTRY, "torn-key", 0, None, 0.0, 0, frames.CODEC_JSON, b"x" * 100)
    )
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(frame[: len(frame) // 2])
    return size, path.read_bytes()


def test_a_torn_last_frame_is_left_alone_by_readers_and_cut_by_the_next_writer(tmp_path):
    path = record_store(tmp_path / "recs")
    good_size, with_tail = torn(path)
    calls.clear()
    with apirec.recording(tmp_path / "recs", mode="replay", store="msgpack"):
        assert [ask(i)["i"] for i in range(N)] == list(range(N))
    assert path.read_bytes() == with_tail  # a reader never cuts: a writer may be appending
    store = MsgpackStore(path.parent)
    with pytest.warns(UserWarning, match=rf"{FILE_NAME}: cut .* at byte {good_size}.*torn-key"):
        store.write("new", {"response": {"body": 1}})
    assert path.read_bytes()[:good_size] == with_tail[:good_size]
    assert MsgpackStore(path.parent).read("new", 0) == {"response": {"body": 1}}
    assert calls == []


def test_a_bad_last_frame_that_is_not_one_torn_frame_is_damage(tmp_path):
    # the last frame's length made shorter: what follows it is no frame, but the file does
    # not end inside a frame as a torn write leaves it, so nothing is cut
    path = record_store(tmp_path / "recs")
    last = frame_offsets(path)[-1]
    at = last + 3 if path.read_bytes()[last + 3] else last + 2  # a byte with a bit set
    low = path.read_bytes()[at]
    flip(path, at, (low & -low).bit_length() - 1)  # clear its lowest set bit
    damaged = path.read_bytes()
    with pytest.raises(apirec.StoreError, match=rf"byte {last}"):
        MsgpackStore(path.parent).write("k", {"response": {"body": 1}})
    assert path.read_bytes() == damaged


def test_verify_reports_the_damage_with_file_and_offset(tmp_path, capsys):
    path = record_store(tmp_path / "recs")
    third = frame_offsets(path)[2]
    flip(path, third + 30, 3)
    damaged = path.read_bytes()
    assert main(["verify", str(tmp_path / "recs")]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM  {path}: damaged at byte {third}" in out, out
    assert "19 recordings checked" in out and "FAILED" in out
    assert path.read_bytes() == damaged


def test_verify_passes_an_intact_store_and_checks_every_recording(tmp_path, capsys):
    record_store(tmp_path / "recs")
    assert main(["verify", str(tmp_path / "recs")]) == 0
    assert f"ok: {N} recordings checked, 0 problems" in capsys.readouterr().out


def test_repair_keeps_a_backup_and_says_what_it_dropped_and_kept(tmp_path, capsys):
    root = tmp_path / "recs"
    path = record_store(root)
    offsets = frame_offsets(path)
    third = offsets[2]
    length = offsets[3] - third
    flip(path, third + 30, 3)
    damaged = path.read_bytes()
    assert main(["repair", str(root)]) == 0
    out = capsys.readouterr().out
    backups = sorted(p for p in os.listdir(root) if p.startswith(f"{FILE_NAME}.damaged-"))
    assert len(backups) == 1
    assert (root / backups[0]).read_bytes() == damaged  # every byte, for a closer look
    assert f"dropped bytes {third}-{third + length} ({length} bytes)" in out, out
    assert "an answer of key" in out  # what the damaged frame held, read without its checksum
    assert f"kept {N - 1} recordings" in out and str(root / backups[0]) in out
    calls.clear()
    with apirec.recording(root, mode="replay", store="msgpack"):
        assert [ask(i)["i"] for i in range(N) if i != 2] == [i for i in range(N) if i != 2]
        with pytest.raises(apirec.RecordingNotFound):
            ask(2)
    assert calls == []
    assert main(["verify", str(root)]) == 0
    assert main(["repair", str(root)]) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_repair_cuts_a_torn_tail_and_names_it(tmp_path, capsys):
    root = tmp_path / "recs"
    path = record_store(root)
    good_size, with_tail = torn(path)
    assert main(["verify", str(root)]) == 1
    assert f"cut short at byte {good_size}" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["repair", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"dropped bytes {good_size}-{len(with_tail)}" in out and "torn-key" in out
    assert f"kept {N} recordings" in out
    assert main(["verify", str(root)]) == 0


PLUGIN_TESTS = """
import provider

def test_one(apirec):
    assert provider.add(1) == {"sum": 2}

def test_two(apirec):
    assert provider.add(2) == {"sum": 3}

def test_three(apirec):
    assert provider.add(3) == {"sum": 4}
"""


def test_a_pytest_replay_run_on_a_damaged_store_fails_naming_it_and_changes_nothing(pytester):
    from .plugin_helpers import setup

    setup(pytester)
    pytester.makepyfile(test_calls=PLUGIN_TESTS)
    args = ["--apirec-dir=recs", "--apirec-store=msgpack", "-p", "no:randomly"]
    pytester.runpytest(*args, "--apirec-mode=record").assert_outcomes(passed=3)
    path = pytester.path / "recs" / FILE_NAME
    second = frame_offsets(path)[1]
    flip(path, second + 30, 3)
    damaged = path.read_bytes()
    # the record run's end indexed every frame: the index says which test's answer the
    # damaged frame holds, so that test fails, naming the file and the byte, and only it
    result = pytester.runpytest(*args)  # replay, the default
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines([f"*StoreError: {path}::*checksum mismatch*at byte {second}*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    # without the index, the open scans every frame, and damage anywhere fails every test
    (path.parent / f"{FILE_NAME}.idx").unlink()
    result = pytester.runpytest(*args)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([f"*StoreError: {path}: damaged at byte {second}*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert path.read_bytes() == damaged
