"""One sequence semantics for both stores: the same tests, run against the JSON store and the
msgpack store, with real processes recording into one store at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from apirec.stores.files import record_start
from apirec.stores.json_store import JsonStore
from apirec.stores.msgpack.store import MsgpackStore

WORKER = Path(__file__).with_name("sequence_worker.py")
STORES = {"json": JsonStore, "msgpack": MsgpackStore}


def run(root: Path, store: str, mode: str, name: str, calls: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(WORKER), str(root), store, mode, name, str(calls)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def stored(root: Path, store: str) -> list[str]:
    """The one key's answers in slot order; fails on a hole."""
    opened = STORES[store](root)
    slots = [(key, index) for key, index, _ in opened.entries()]
    assert [i for _, i in slots] == list(range(len(slots))), f"hole in the sequence: {slots}"
    return [opened.read(k, i)["response"]["body"] for k, i in slots]  # type: ignore[index]


@pytest.mark.parametrize("store", list(STORES))
def test_record_keeps_the_answer_another_process_recorded_after_it_began(tmp_path, store):
    root = tmp_path / "recordings"
    assert run(root, store, "record", "old", 2) == ["old-0", "old-1"]
    ready, go = tmp_path / "ready", tmp_path / "go"
    recorder = subprocess.Popen(
        [sys.executable, str(WORKER), str(root), store, "record", "mine", "1", ready, go],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():  # the record run has begun
            assert recorder.poll() is None, recorder.communicate()
            assert time.monotonic() < deadline, "the record run did not start"
            time.sleep(0.01)
        # meanwhile another process replays the two answers and records a third (slot 2)
        assert run(root, store, "record-if-missing", "other", 3) == ["old-0", "old-1", "other-0"]
        go.touch()
        out, err = recorder.communicate(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
    assert recorder.returncode == 0, err
    assert json.loads(out) == ["mine-0"]
    # the record run dropped the earlier run's answers, kept the other process's and moved
    # it down: no hole, and each answer replays in its place
    assert stored(root, store) == ["other-0", "mine-0"]
    assert run(root, store, "replay", "never", 2) == ["other-0", "mine-0"]


@pytest.mark.parametrize("store", list(STORES))
def test_processes_recording_one_key_at_once_keep_every_answer_and_no_old_one(tmp_path, store):
    root = tmp_path / "recordings"
    run(root, store, "record", "old", 5)
    go = tmp_path / "go"
    command = [sys.executable, str(WORKER), str(root), store, "record"]
    workers = [
        subprocess.Popen(
            [*command, f"w{n}", "10", str(tmp_path / f"ready-{n}"), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < len(workers):
            assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.01)
        go.touch()  # every process has begun its record run: all reset and write at once
        outputs = [w.communicate(timeout=60) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in workers] == [0] * len(workers), [e for _, e in outputs]
    produced = [token for out, _ in outputs for token in json.loads(out)]
    assert sorted(stored(root, store)) == sorted(produced)  # none lost, none old, no hole


def _entry(body: str) -> dict[str, Any]:
    return {"test_id": None, "request": {}, "response": {"body": body, "is_streaming": False}}


@pytest.mark.parametrize("store", list(STORES))
def test_reset_keeps_answers_written_since_in_order_and_closes_the_holes(tmp_path, store):
    opened = STORES[store](tmp_path)
    for i in range(3):
        opened.write("k", _entry(f"old-{i}"))
    start = record_start()
    opened.write("k", _entry("new-a"))  # slot 3, written after the start
    opened.write("k", _entry("new-b"))  # slot 4
    opened.reset("k", older_than=start)
    assert stored(tmp_path, store) == ["new-a", "new-b"]
    assert opened.write("k", _entry("mine")) == 2
    assert stored(tmp_path, store) == ["new-a", "new-b", "mine"]


@pytest.mark.parametrize("store", list(STORES))
def test_closing_a_gap_moves_later_answers_down(tmp_path, store):
    opened = STORES[store](tmp_path)
    opened.write("k", _entry("a"))
    opened.write("k", _entry("c"), start=2)  # slot 1 waits for a call in flight
    assert opened.close_gap("k", 1)
    assert stored(tmp_path, store) == ["a", "c"]
    assert not opened.close_gap("k", 0)  # filled: nothing moves


STEPS_WORKER = Path(__file__).with_name("sequence_steps_worker.py")


@pytest.mark.parametrize("store", list(STORES))
def test_record_if_missing_replays_an_answer_another_process_stored_since_it_counted(
    tmp_path, store
):
    # B records answer 1; C replays it and records answer 2; B's second call must replay
    # C's answer 2 (stored since B counted), not call live and store a duplicate after it
    root, b1, c1 = tmp_path / "recordings", tmp_path / "b1", tmp_path / "c1"

    def start(name: str, steps: str) -> subprocess.Popen[str]:
        argv = [sys.executable, str(STEPS_WORKER), str(root), store, "record-if-missing"]
        return subprocess.Popen(
            [*argv, name, steps], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    b = start("B", f"call,touch:{b1},wait:{c1},call,call")
    c = start("C", f"wait:{b1},call,call,touch:{c1}")
    (b_out, b_err), (c_out, c_err) = b.communicate(timeout=120), c.communicate(timeout=120)
    assert b.returncode == 0 and c.returncode == 0, b_err + c_err
    assert json.loads(c_out) == ["B-0", "C-0"]
    assert json.loads(b_out) == ["B-0", "C-0", "B-1"]
    assert stored(root, store) == ["B-0", "C-0", "B-1"]
