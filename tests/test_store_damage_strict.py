"""What counts as a torn tail, a file cut short, a damaged index, and how ``apirec repair``
keeps each sequence whole (issue 18, second round): never a silent miss that makes
record-if-missing call the real service again, never a wrong answer.

Each test records a real store through the public API, then damages it as a disk, an editor or
a crash would.
"""

from __future__ import annotations

import os

import pytest

import apirec
from apirec.cli.app import main
from apirec.stores.msgpack import frames
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore

from .test_store_damage import N, ask, calls, flip, frame_offsets, record_store

answers = iter(range(1, 1_000_000))


@apirec.record(name="damage.poll")
def poll(x: int) -> str:
    calls.append(x)
    return f"answer #{next(answers)}"


def test_every_flipped_bit_in_the_last_frame_is_damage_never_a_torn_tail(tmp_path):
    # the writer wrote every byte of it: whatever one flipped bit does to its length, checksum
    # or payload, it is damage (a StoreError), not a torn tail a reader skips and a writer cuts
    path = record_store(tmp_path / "recs")
    last = frame_offsets(path)[-1]
    intact = path.read_bytes()
    for at in range(last, len(intact)):
        for bit in (0, 4, 7):
            flip(path, at, bit)
            store = MsgpackStore(path.parent, salvage=True)
            assert store.torn is None and store.damage, (at, bit)
            assert store.damage[0].offset == last, (at, bit)
            store.close()
            path.write_bytes(intact)


@pytest.mark.parametrize("mode", ["replay", "record-if-missing"])
def test_a_damaged_last_frame_fails_the_call_and_is_never_cut(tmp_path, mode):
    path = record_store(tmp_path / "recs")
    last = frame_offsets(path)[-1]
    flip(path, len(path.read_bytes()) - 5, 2)  # the payload of the newest answer, ask(N - 1)
    damaged = path.read_bytes()
    calls.clear()
    with (
        pytest.raises(apirec.StoreError, match=rf"damaged at byte {last}.*apirec repair"),
        apirec.recording(tmp_path / "recs", mode=mode, store="msgpack"),
    ):
        ask(N - 1)
    assert calls == []  # record-if-missing did not call the real service again
    assert path.read_bytes() == damaged  # neither a reader nor a writer cut it


def test_garbage_appended_is_damage_not_a_torn_tail(tmp_path):
    path = record_store(tmp_path / "recs")
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"hello world")  # "hell" read as a length of 1.75 GB
    store = MsgpackStore(path.parent, salvage=True)
    assert store.torn is None and [d.offset for d in store.damage] == [size]
    store.close()
    with pytest.raises(apirec.StoreError, match=rf"damaged at byte {size}"):
        MsgpackStore(path.parent).write("k", {"response": {"body": 1}})
    assert path.read_bytes()[size:] == b"hello world"


def test_a_frame_cut_at_any_byte_by_its_writer_is_still_a_torn_tail(tmp_path):
    path = record_store(tmp_path / "recs")
    intact = path.read_bytes()
    frame = frames.pack_frame(
        frames.Frame(frames.ENTRY, "k", 3, "k.3.json", 1.5, 0, frames.CODEC_JSON, b"x" * 300)
    )
    for cut in range(1, len(frame)):
        path.write_bytes(intact + frame[:cut])
        store = MsgpackStore(path.parent, salvage=True)
        assert store.torn is not None and store.torn.offset == len(intact), cut
        assert not store.damage, cut
        store.close()


def test_a_file_shorter_than_its_index_says_is_damage_reported_and_repaired(tmp_path, capsys):
    root = tmp_path / "recs"
    path = record_store(root)
    MsgpackStore(root).compact()  # writes the index
    assert (root / f"{FILE_NAME}.idx").exists()
    last, size = frame_offsets(path)[-1], path.stat().st_size
    os.truncate(path, last)  # the newest answer's frame is gone, cut at a frame boundary
    for mode in ["replay", "record-if-missing"]:
        calls.clear()
        with (
            pytest.raises(apirec.StoreError, match=rf"byte {last}.*index"),
            apirec.recording(root, mode=mode, store="msgpack"),
        ):
            ask(N - 1)
        assert calls == []
    assert path.stat().st_size == last
    assert main(["verify", str(root)]) == 1
    assert f"bytes {last}-{size}" in capsys.readouterr().out
    assert main(["repair", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"dropped bytes {last}-{size}" in out and f"kept {N - 1} recordings" in out
    with apirec.recording(root, mode="replay", store="msgpack"):
        assert [ask(i)["i"] for i in range(N - 1)] == list(range(N - 1))
    assert main(["verify", str(root)]) == 0


def damage_index(root) -> None:
    """Every bucket's offset in the index table made absurd (one byte each)."""
    index = root / f"{FILE_NAME}.idx"
    raw = bytearray(index.read_bytes())
    for bucket in range(frames.BUCKETS):
        raw[frames.INDEX_HEAD.size + bucket * frames.BUCKET.size] ^= 0xFF
    index.write_bytes(bytes(raw))


def test_a_damaged_index_is_a_store_error_naming_it_and_verify_reports_it(tmp_path, capsys):
    root = tmp_path / "recs"
    record_store(root)
    MsgpackStore(root).compact()
    damage_index(root)
    with (
        pytest.raises(apirec.StoreError, match=rf"{FILE_NAME}\.idx: the index is damaged"),
        apirec.recording(root, mode="replay", store="msgpack"),
    ):
        ask(0)
    assert main(["verify", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"{FILE_NAME}.idx" in out and f"{N} recordings checked" in out, out


def test_repair_rebuilds_a_damaged_index_losing_nothing(tmp_path, capsys):
    root = tmp_path / "recs"
    path = record_store(root)
    MsgpackStore(root).compact()
    data = path.read_bytes()
    damage_index(root)
    assert main(["repair", str(root)]) == 0
    out = capsys.readouterr().out
    assert "rebuilt" in out and "nothing is lost" in out, out
    assert path.read_bytes() == data  # the data file is not touched
    calls.clear()
    with apirec.recording(root, mode="replay", store="msgpack"):
        assert [ask(i)["i"] for i in range(N)] == list(range(N))
    assert main(["verify", str(root)]) == 0


def record_three_polls(root) -> bytes:
    with apirec.recording(root, mode="record", store="msgpack"):
        assert [poll(1) for _ in range(3)] == [f"answer #{n}" for n in range(1, 4)]
        poll(2)
    return (root / FILE_NAME).read_bytes()


def test_repair_leaves_no_hole_in_a_sequence_and_says_it_is_recorded_again(tmp_path, capsys):
    global answers
    answers = iter(range(1, 1_000_000))
    root = tmp_path / "recs"
    record_three_polls(root)
    path = root / FILE_NAME
    second = frame_offsets(path)[1]  # poll(1)'s answer #2, slot 1
    flip(path, second + 40, 0)
    assert main(["repair", str(root)]) == 0
    out = capsys.readouterr().out
    assert ".2.json: readable, but answer 2 of its sequence (slot 1" in out, out
    assert "kept 2 recordings" in out
    answers = iter(range(101, 1_000_000))
    calls.clear()
    with apirec.recording(root, mode="record-if-missing", store="msgpack"):
        # answer #3 is never given to call 3 after call 2 was recorded anew
        assert [poll(1) for _ in range(3)] == ["answer #1", "answer #101", "answer #102"]
    assert calls == [1, 1]
    assert main(["verify", str(root)]) == 0


def test_verify_reports_a_sequence_with_a_hole_in_a_msgpack_store(tmp_path, capsys):
    root = tmp_path / "recs"
    store = MsgpackStore(root)
    for index in (0, 2):
        store.replace("k", index, {"response": {"body": index}})
    store.close()
    assert main(["verify", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"{FILE_NAME}::k.2.json: a sequence with a hole" in out, out
    assert main(["repair", str(root)]) == 0
    assert "k.2.json: readable, but answer 2" in capsys.readouterr().out
    assert main(["verify", str(root)]) == 0


def test_verify_reports_a_sequence_with_a_hole_in_a_json_store(tmp_path, capsys):
    root = tmp_path / "recs"
    with apirec.recording(root, mode="record", store="json"):
        for _ in range(3):
            poll(7)
    assert main(["verify", str(root)]) == 0
    capsys.readouterr()
    (second,) = root.rglob("*.1.json")
    second.unlink()
    assert main(["verify", str(root)]) == 1
    out = capsys.readouterr().out
    third = str(second).replace(".1.json", ".2.json")
    assert f"{third}: a sequence with a hole" in out, out


def test_convert_refuses_a_store_with_a_torn_tail(tmp_path, capsys):
    from .test_store_damage import torn

    root = tmp_path / "recs"
    path = record_store(root)
    torn(path)
    assert main(["convert", str(root), str(tmp_path / "json"), "--to", "json"]) == 1
    err = capsys.readouterr().err
    assert "cut short" in err and "apirec repair" in err, err
    assert not list((tmp_path / "json").rglob("*.json"))


def test_convert_and_compact_refuse_a_damaged_last_frame(tmp_path, capsys):
    root = tmp_path / "recs"
    path = record_store(root)
    flip(path, len(path.read_bytes()) - 5, 2)
    damaged = path.read_bytes()
    assert main(["convert", str(root), str(tmp_path / "json"), "--to", "json"]) == 1
    assert "apirec repair" in capsys.readouterr().err
    with pytest.raises(apirec.StoreError, match="damaged"):
        MsgpackStore(root).compact()
    assert path.read_bytes() == damaged
    assert sorted(os.listdir(root)) == [FILE_NAME]


def test_a_missing_long_string_names_the_recording(tmp_path):
    import msgpack

    root = tmp_path / "recs"
    root.mkdir()
    body = msgpack.packb({"response": {"body": msgpack.ExtType(1, b"d" * 16)}})
    frame = frames.Frame(frames.ENTRY, "k", 0, None, 1.0, 0, 0, frames.compress(body, None))
    (root / FILE_NAME).write_bytes(frames.DATA_MAGIC + b"g" * 16 + frames.pack_frame(frame))
    with pytest.raises(apirec.StoreError, match=rf"{FILE_NAME}::k\.json: a long string"):
        MsgpackStore(root).read("k", 0)


def test_an_index_pointing_a_slot_at_another_slots_frame_is_never_a_wrong_answer(tmp_path, capsys):
    root = tmp_path / "recs"
    store = MsgpackStore(root)
    for n in range(2):
        store.write("k", {"response": {"body": f"answer {n + 1}"}})
    store.compact()
    store.close()
    index = root / f"{FILE_NAME}.idx"
    fd = os.open(index, os.O_RDONLY)
    generation, covered, dict_offset, _ = frames.read_index_head(fd)  # type: ignore[misc]
    os.close(fd)
    whole = MsgpackStore(root, salvage=True)
    buckets = whole._view.buckets()
    whole.close()
    rows = buckets[frames.bucket_of("k")]["k"]
    rows[0][1:3] = rows[1][1:3]  # slot 0 -> the frame of slot 1, as a damaged index may say
    frames.write_index(str(index), generation, covered, dict_offset, buckets)
    with pytest.raises(apirec.StoreError, match=r"k\.json: the index points at the wrong frame"):
        MsgpackStore(root).read("k", 0)
    assert main(["verify", str(root)]) == 1
    assert "the index does not match" in capsys.readouterr().out
