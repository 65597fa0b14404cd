import multiprocessing
import os
import threading

import pytest
from pydantic import BaseModel

import apirec
from apirec.stores.json_store import JsonStore
from apirec.stores.msgpack import frames
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore

from .test_store import entry


def bodies(store, key):
    return [store.read(key, i)["response"]["body"] for i in range(store.count(key))]


STORES = [JsonStore, MsgpackStore]


@pytest.mark.parametrize("kind", STORES)
def test_both_stores_keep_sequences_alike(store_dir, kind):
    store = kind(store_dir)
    assert [store.write("abc", entry(i)) for i in range(3)] == [0, 1, 2]
    assert store.write("abc", entry("x"), start=5) == 5
    assert store.write("abc", entry("y"), start=1) == 3
    assert bodies(store, "abc") == [0, 1, 2, "y"]
    assert store.read("abc", 5)["response"]["body"] == "x"
    assert store.read("abc", 4) is None and store.count("nope") == 0
    assert [(k, i) for k, i, _ in store.entries()] == [("abc", i) for i in (0, 1, 2, 3, 5)]
    # a fresh instance (another process, a later run) sees the same
    assert bodies(kind(store_dir), "abc") == [0, 1, 2, "y"]


def test_msgpack_store_is_one_file_plus_its_index(store_dir):
    store = MsgpackStore(store_dir)
    for i in range(frames.REINDEX_AT + 5):
        store.write(f"k{i % 7}", entry(i))
    assert sorted(os.listdir(store_dir)) == [FILE_NAME, f"{FILE_NAME}.idx"]
    again = MsgpackStore(store_dir)
    assert again.count("k3") == len(range(3, frames.REINDEX_AT + 5, 7))
    assert again.read("k6", 2)["response"]["body"] == 20


def test_reset_drops_only_older_answers(store_dir):
    store = MsgpackStore(store_dir)
    store.write("k", entry("old"))
    store.write("k", entry("old2"))
    store.write("other", entry("kept"))
    store.reset("k", older_than=os.path.getmtime(store.path) + 1)
    assert store.count("k") == 0
    assert store.write("k", entry("new")) == 0
    store.reset("k", older_than=0)
    fresh = MsgpackStore(store_dir)
    assert bodies(fresh, "k") == ["new"] and bodies(fresh, "other") == ["kept"]


def test_opening_decompresses_and_parses_nothing(store_dir, monkeypatch):
    writer = MsgpackStore(store_dir)
    for i in range(20):
        writer.write(f"k{i}", entry(i))
    writer.compact()  # index covers everything
    writer.write("late", entry("tail"))  # one frame after the index
    calls = []
    real = frames.decompress
    monkeypatch.setattr(frames, "decompress", lambda *a: calls.append(a) or real(*a))
    store = MsgpackStore(store_dir)
    assert calls == []
    assert store.read("k7", 0)["response"]["body"] == 7
    assert store.read("late", 0)["response"]["body"] == "tail"
    # two recordings read; the dictionary of the compacted file once
    assert len(calls) == 3


def test_damaged_frame_fails_alone_and_names_file_and_recording(store_dir):
    store = MsgpackStore(store_dir)
    for i in range(3):
        store.write(f"k{i}", entry("x" * 200 + str(i)))
    store.compact()  # indexed: the index still points at the damaged frame
    slot = store._slots("k1")[0]
    with open(store.path, "r+b") as f:  # flip bytes in the middle of k1's frame
        f.seek(slot.offset + slot.length // 2)
        f.write(b"\x00\xff\x00\xff")
    fresh = MsgpackStore(store_dir)  # opens fine
    assert fresh.read("k0", 0)["response"]["body"].endswith("0")
    assert fresh.read("k2", 0)["response"]["body"].endswith("2")
    with pytest.raises(apirec.StoreError, match=r"recordings\.apirec::k1\.json: checksum"):
        fresh.read("k1", 0)


@pytest.mark.parametrize("compacted", [False, True], ids=["tail-only", "after-index"])
def test_torn_last_frame_is_ignored_by_readers_then_cut_off_by_the_next_writer(
    store_dir, compacted
):
    store = MsgpackStore(store_dir)
    for i in range(3):
        store.write("k", entry(i))
    if compacted:
        store.compact()
    good_size = os.path.getsize(store.path)
    frame = frames.pack_frame(
        frames.Frame(frames.ENTRY, "k", 3, None, 0.0, 0, frames.CODEC_JSON, b"x" * 100)
    )
    with open(store.path, "ab") as f:  # a writer died half way through its append
        f.write(frame[: len(frame) // 2])
    torn_size = os.path.getsize(store.path)
    fresh = MsgpackStore(store_dir)
    assert bodies(fresh, "k") == [0, 1, 2]
    assert os.path.getsize(store.path) == torn_size  # a reader never cuts
    with pytest.warns(UserWarning, match=f"cut {torn_size - good_size} bytes at byte {good_size}"):
        assert fresh.write("k", entry(3)) == 3
    assert bodies(MsgpackStore(store_dir), "k") == [0, 1, 2, 3]


def test_index_that_does_not_match_is_rebuilt_from_the_frames(store_dir):
    store = MsgpackStore(store_dir)
    for i in range(5):
        store.write(f"k{i}", entry(i))
    store.compact()
    store.index_path.write_bytes(b"garbage")
    assert MsgpackStore(store_dir).read("k4", 0)["response"]["body"] == 4


def test_not_a_store_file_is_a_clear_error(store_dir):
    (store_dir / FILE_NAME).write_bytes(b"PK\x03\x04 this is a zip file, not a store")
    with pytest.raises(apirec.StoreError, match="not an apirec msgpack store"):
        MsgpackStore(store_dir)


def test_compaction_keeps_live_answers_and_follows_other_writers(store_dir):
    store = MsgpackStore(store_dir)
    other = MsgpackStore(store_dir)  # opened before the file is replaced
    for i in range(10):
        store.write("k", entry(i))
    store.reset("k", older_than=os.path.getmtime(store.path) + 1)
    store.write("k", entry("live"))
    before = os.path.getsize(store.path)
    store.compact()
    assert os.path.getsize(store.path) < before
    assert bodies(store, "k") == ["live"]
    assert other.write("k", entry("from other")) == 1  # lands in the new file
    assert bodies(MsgpackStore(store_dir), "k") == ["live", "from other"]


def test_long_strings_are_stored_once(store_dir):
    image = "data:image/png;base64," + "iVBORw0KGgo" * 1000
    store = MsgpackStore(store_dir)
    store.write("a", entry({"content": image}))
    size = os.path.getsize(store.path)
    store.write("b", entry({"content": image, "again": [image]}))
    assert os.path.getsize(store.path) - size < 500
    assert MsgpackStore(store_dir).read("b", 0)["response"]["body"]["again"] == [image]


def test_values_msgpack_cannot_carry_round_trip(store_dir):
    odd = {"lone": "\ud800", "big": 2**70, "neg": -(2**70)}
    store = MsgpackStore(store_dir)
    store.write("k", entry(odd))
    assert MsgpackStore(store_dir).read("k", 0)["response"]["body"] == odd


def test_threads_writing_one_key_lose_nothing(store_dir):
    store = MsgpackStore(store_dir)
    slots = []

    def work(n):
        for i in range(20):
            slots.append(store.write("k", entry(f"{n}-{i}")))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slots) == list(range(120))
    assert len(set(bodies(MsgpackStore(store_dir), "k"))) == 120


def _write_many(path, worker, n):
    store = MsgpackStore(path)
    for i in range(n):
        store.write("shared", entry(f"{worker}-{i}"))
        store.write(f"own-{worker}", entry(i))


def test_processes_writing_one_store_lose_nothing(store_dir):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(store_dir, w, 30)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    store = MsgpackStore(store_dir)
    shared = bodies(store, "shared")
    assert sorted(shared) == sorted(f"{w}-{i}" for w in range(3) for i in range(30))
    assert all(bodies(store, f"own-{w}") == list(range(30)) for w in range(3))


class Answer(BaseModel):
    text: str


@apirec.record(name="answer")
def answer(question: str) -> Answer:
    answer.calls += 1
    return Answer(text=question.upper())


answer.calls = 0


def test_recording_with_store_msgpack_records_and_replays(tmp_path):
    path = tmp_path / "recs"
    with apirec.recording(path, mode="record", store="msgpack"):
        assert answer("hi") == Answer(text="HI")
    assert sorted(os.listdir(path)) == [FILE_NAME]  # index comes with compaction or growth
    calls = answer.calls
    with apirec.recording(path, mode="replay", store="msgpack") as rec:
        assert answer("hi") == Answer(text="HI")
        assert rec.stats.replayed == 1
    assert answer.calls == calls


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_record_mode_replaces_earlier_answers_in_both_stores(tmp_path, store):
    answers = iter(["first run a", "first run b", "second run", "extra"])

    @apirec.record(name="next")
    def nxt(q: str) -> str:
        return next(answers)

    with apirec.recording(tmp_path, mode="record", store=store):
        assert [nxt("q"), nxt("q")] == ["first run a", "first run b"]
    with apirec.recording(tmp_path, mode="record", store=store):
        assert nxt("q") == "second run"  # the sequence starts again; older answers go
    with apirec.recording(tmp_path, mode="replay", store=store):
        assert nxt("q") == "second run"
        with pytest.raises(apirec.SequenceExhausted, match="but 1 answer was recorded"):
            nxt("q")  # the first run's second answer went too
    with apirec.recording(tmp_path, mode="record-if-missing", store=store):
        assert [nxt("q"), nxt("q")] == ["second run", "extra"]  # past the end: recorded
    with apirec.recording(tmp_path, mode="replay", store=store):
        assert [nxt("q"), nxt("q")] == ["second run", "extra"]
        with pytest.raises(apirec.SequenceExhausted, match="call 3 of next"):
            nxt("q")
    with apirec.recording(tmp_path, mode="replay", store=store, repeats="last"):
        assert [nxt("q"), nxt("q"), nxt("q")] == ["second run", "extra", "extra"]


def test_an_index_that_cannot_be_written_only_costs_time(store_dir, monkeypatch):
    monkeypatch.setattr(frames, "REINDEX_AT", 4)
    (store_dir / f"{FILE_NAME}.idx").mkdir()  # in the way of the index file
    store = MsgpackStore(store_dir)
    for i in range(10):
        store.write("k", entry(i))
    assert bodies(MsgpackStore(store_dir), "k") == list(range(10))
    assert sorted(os.listdir(store_dir)) == [FILE_NAME, f"{FILE_NAME}.idx"]


def test_damaged_index_bucket_says_which_file_to_delete(store_dir):
    store = MsgpackStore(store_dir)
    for i in range(5):
        store.write(f"k{i}", entry(i))
    store.compact()
    index = store.index_path
    table_end = frames.INDEX_HEAD.size + frames.BUCKETS * frames.BUCKET.size
    raw = bytearray(index.read_bytes())
    raw[table_end:] = b"\xff" * (len(raw) - table_end)
    index.write_bytes(bytes(raw))
    with pytest.raises(
        apirec.StoreError, match=r"index is damaged .*delete recordings\.apirec\.idx"
    ):
        MsgpackStore(store_dir).read("k1", 0)
    index.unlink()
    assert MsgpackStore(store_dir).read("k1", 0)["response"]["body"] == 1
