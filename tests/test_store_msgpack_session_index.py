"""A msgpack store's index is brought up to date when the session that wrote to it ends, so the
next open reads the index and scans no frame (before, up to ``REINDEX_AT`` frames stayed past
the index, and every open of every test scanned them again)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import apirec
from apirec.stores.msgpack import file as store_file
from apirec.stores.msgpack import frames, session_index
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore

from .test_store import entry

pytest_plugins = ["pytester"]


def covered(store_dir: Path) -> int | None:
    """The data size the index file covers, or None without one."""
    index = store_dir / f"{FILE_NAME}.idx"
    if not index.exists():
        return None
    fd = os.open(index, os.O_RDONLY)
    try:
        head = frames.read_index_head(fd)
    finally:
        os.close(fd)
    assert head is not None
    return head[1]


def frames_scanned_by_opening(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    seen: list[int] = []
    real = store_file.Scan

    class Counting(real):  # type: ignore[misc, valid-type]
        def __iter__(self):  # type: ignore[no-untyped-def]
            for found in super().__iter__():
                seen.append(found[0])
                yield found

    monkeypatch.setattr(store_file, "Scan", Counting)
    MsgpackStore(store_dir).close()
    monkeypatch.setattr(store_file, "Scan", real)
    return len(seen)


RECORDS = """
import sys
import apirec

@apirec.record(name="ask")
def ask(q):
    return {"answer": q * 2}

with apirec.recording(sys.argv[1], store="msgpack", mode="record", test_id="t.py::t"):
    for q in range(5):
        ask(q)
"""


def test_a_process_that_recorded_leaves_the_index_covering_every_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir = tmp_path / "recs"
    subprocess.run([sys.executable, "-c", RECORDS, str(store_dir)], check=True, timeout=120)
    assert covered(store_dir) == (store_dir / FILE_NAME).stat().st_size
    assert frames_scanned_by_opening(store_dir, monkeypatch) == 0

    @apirec.record(name="ask")
    def ask(q: int) -> dict[str, int]:
        raise AssertionError("replayed, never called")

    with apirec.recording(store_dir, store="msgpack", mode="replay", test_id="t.py::t"):
        assert [ask(q)["answer"] for q in range(5)] == [0, 2, 4, 6, 8]


def test_the_plugins_session_end_updates_the_index(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "apirec_store = msgpack\napirec_dir = recs\n"
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import apirec

            @apirec.record(name="ask")
            def ask(q):
                return q + 1

            def test_one(apirec):
                assert ask(1) == 2

            def test_two(apirec):
                assert ask(2) == 3
            """
        )
    )
    # in this process: only the session's end can have written the index, not the exit
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=2)
    store_dir = pytester.path / "recs"
    assert covered(store_dir) == (store_dir / FILE_NAME).stat().st_size
    pytester.runpytest("--apirec-mode=replay").assert_outcomes(passed=2)


def test_the_index_takes_in_what_other_writers_appended(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = MsgpackStore(store_dir), MsgpackStore(store_dir)
    ours.write("ours", entry("a"))
    theirs.write("theirs", entry("b"))  # another writer (an xdist worker), after ours
    session_index.update_indexes()
    assert covered(store_dir) == (store_dir / FILE_NAME).stat().st_size
    assert frames_scanned_by_opening(store_dir, monkeypatch) == 0
    fresh = MsgpackStore(store_dir)
    assert fresh.read("ours", 0) == entry("a") and fresh.read("theirs", 0) == entry("b")
    # a write after the update: the next open scans only that one frame
    ours.write("later", entry("c"))
    assert frames_scanned_by_opening(store_dir, monkeypatch) == 1
    assert MsgpackStore(store_dir).read("later", 0) == entry("c")


def test_a_damaged_store_is_left_as_it_is(store_dir: Path) -> None:
    store = MsgpackStore(store_dir)
    for i in range(3):
        store.write(f"k{i}", entry("x" * 200 + str(i)))
    data = store_dir / FILE_NAME
    raw = bytearray(data.read_bytes())
    raw[frames.HEADER_SIZE + 40] ^= 0xFF  # inside the first frame
    data.write_bytes(bytes(raw))
    session_index.update_indexes()  # no error here: every read names the damage
    assert covered(store_dir) is None and data.read_bytes() == bytes(raw)
    with pytest.raises(apirec.StoreError, match="damaged at byte"):
        MsgpackStore(store_dir).read("k1", 0)


def test_a_store_removed_before_the_session_ends_is_not_made_again(store_dir: Path) -> None:
    MsgpackStore(store_dir).write("k", entry("a"))
    (store_dir / FILE_NAME).unlink()
    session_index.update_indexes()
    assert not (store_dir / FILE_NAME).exists() and covered(store_dir) is None
