"""The JSON store's temporary directory (``.apirec-tmp``): removed when a recording closes
with it empty, so a committed recordings directory holds recordings only, and never while
another writer uses it (its lock follows the directory, not a removed one)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

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


def test_a_temp_directory_removed_between_mkdir_and_its_check_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process's tidy removed the directory after our mkdir found it there: mkdir's
    # exist_ok check then sees no directory and raises EEXIST (seen as a flaky xdist write).
    real_mkdir = os.mkdir
    raced: list[str] = []

    def mkdir_racing_a_tidy(path: Any, mode: int = 0o777) -> None:
        if Path(path).name == TMP_DIR and not raced:
            raced.append(str(path))
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "mkdir", mkdir_racing_a_tidy)
    with apirec.recording(tmp_path, mode="record"):
        answer(7)
    assert raced, "the race was not staged"
    with apirec.recording(tmp_path, mode="replay"):
        assert answer(7) == {"n": 7}
