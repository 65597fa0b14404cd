"""The JSON store's temporary directory (``.apirec-tmp``): removed when a recording closes
with it empty, so a committed recordings directory holds recordings only, and never while
another writer uses it (its lock follows the directory, not a removed one)."""

from __future__ import annotations

from pathlib import Path

import apirec
from apirec.stores.json_store import TMP_DIR, JsonStore

from .reliability import decoded_sequences, run_threads


@apirec.record(name="tmpdir.answer")
def answer(n: int) -> dict[str, int]:
    return {"n": n}


def test_no_empty_temp_directory_is_left_after_recording(tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="record"):
        answer(1)
        answer(2)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".json")) == []
    with apirec.recording(tmp_path, mode="replay"):
        assert answer(2) == {"n": 2}


def test_a_temp_file_in_use_keeps_the_directory(tmp_path: Path) -> None:
    tmp = tmp_path / TMP_DIR
    tmp.mkdir()
    (tmp / "123-host-inflight.tmp").write_bytes(b"half")  # another writer's, in flight
    JsonStore(tmp_path).tidy()
    assert [p.name for p in tmp.iterdir()] == ["123-host-inflight.tmp"]


def test_closing_recordings_while_others_write_loses_nothing(tmp_path: Path) -> None:
    # Half the threads record and close again and again (each close removes the directory
    # when empty) while the others record: every write must still land, once.
    def worker(i: int) -> None:
        for n in range(30):
            with apirec.recording(tmp_path, mode="record"), apirec.test_context(f"t{i}"):
                answer(i * 100 + n)

    run_threads(worker, 6)
    sequences = decoded_sequences(tmp_path)
    assert sorted(body["n"] for bodies in sequences.values() for body in bodies) == sorted(
        i * 100 + n for i in range(6) for n in range(30)
    )
