"""Several processes recording into one directory at once lose nothing and corrupt nothing.

Four real processes (tests/recorder_worker.py) record the same shared keys and their own keys
into one store, all starting together. Each answer carries a unique token, so the store must
hold exactly the answers the processes produced: none lost, none twice, no hole in a sequence,
every file complete and decodable. Also at the store level: writers that share no lock object
(like processes) resetting and writing one key at once never leave a hole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import apirec
from apirec.stores.files import record_start
from apirec.stores.json_store import JsonStore, dumps

from .recorder_worker import OWN_KEYS, SHARED_CALLS, SHARED_KEYS, plan
from .reliability import decoded_sequences, run_threads

WORKER = Path(__file__).with_name("recorder_worker.py")
N_PROCESSES = 4


def run_workers(root: Path, mode: str, signals: Path) -> list[dict[str, Any]]:
    signals.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(root), mode, f"w{i}", str(signals)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(N_PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(signals.glob("ready-*"))) < N_PROCESSES:
            assert time.monotonic() < deadline, "workers did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.01)
        (signals / "go").touch()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    return [json.loads(out) for out, _ in outputs]


def stored(root: Path) -> dict[str, list[dict[str, str]]]:
    """Every stored answer by topic (each file decoded, no hole, no temporary file left)."""
    by_topic: dict[str, list[dict[str, str]]] = {}
    for sequence in decoded_sequences(root).values():
        for body in sequence:
            by_topic.setdefault(body["topic"], []).append(body)
    return by_topic


def earlier_run(root: Path, per_key: int) -> list[str]:
    """An earlier run's answers for two shared keys, written before the workers start."""

    @apirec.record(name="multiprocess.ask", shared=True)
    def ask(topic: str) -> dict[str, str]:
        return {"topic": topic, "token": f"old-{topic}-{len(tokens)}"}

    tokens: list[str] = []
    with apirec.recording(root, mode="record"):
        for topic in ["shared-0", "shared-1"] * per_key:
            tokens.append(ask(topic)["token"])
    return tokens


def test_four_processes_in_record_mode_keep_every_answer(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    old = earlier_run(root, 40)  # many: resets race with each other over a long sequence
    results = run_workers(root, "record", tmp_path / "signals")

    produced = [t for r in results for t in r["produced"]]
    calls = N_PROCESSES * (OWN_KEYS + SHARED_KEYS * SHARED_CALLS)
    assert len(produced) == len(set(produced)) == calls
    for r in results:  # record mode always calls through
        assert [a["token"] for a in r["returned"]] == r["produced"]

    by_topic = stored(root)
    tokens = [a["token"] for answers in by_topic.values() for a in answers]
    assert Counter(tokens) == Counter(produced), "the store holds exactly the answers produced"
    assert not set(old) & set(tokens), "record mode replaced the earlier run's answers"
    for i in range(SHARED_KEYS):
        assert len(by_topic[f"shared-{i}"]) == N_PROCESSES * SHARED_CALLS
    expected_topics = {t for i in range(N_PROCESSES) for t in plan(f"w{i}")}
    assert set(by_topic) == expected_topics


def test_four_processes_in_record_if_missing_mode_keep_every_answer(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    old = earlier_run(root, 5)
    results = run_workers(root, "record-if-missing", tmp_path / "signals")

    produced = [t for r in results for t in r["produced"]]
    by_topic = stored(root)
    tokens = [a["token"] for answers in by_topic.values() for a in answers]
    # Nothing lost and nothing twice: the earlier answers and every answer made live now.
    assert Counter(tokens) == Counter(old + produced)
    stored_tokens = set(tokens)
    for r in results:
        assert len(r["returned"]) == OWN_KEYS + SHARED_KEYS * SHARED_CALLS
        assert {a["token"] for a in r["returned"]} <= stored_tokens
        # the earlier run's answers come first in their sequences: replayed, not called again
        assert [a["token"] for a in r["returned"] if a["topic"] == "shared-0"][:5] == old[0::2]
    for i in range(N_PROCESSES):
        for topic in plan(f"w{i}"):
            if topic.startswith("own-"):
                assert len(by_topic[topic]) == 1


def _entry(token: str) -> dict[str, Any]:
    return {
        "test_id": None,
        "request": {"function": "f", "args": {}, "key": "k"},
        "response": {"body": token, "is_streaming": False},
        "id_normalization_mapping": {},
    }


def _sequence(root: Path, key: str) -> list[str]:
    return decoded_sequences(root)[key]


def test_reset_keeps_answers_written_since_and_closes_the_holes(tmp_path: Path) -> None:
    store = JsonStore(tmp_path)
    for i in range(3):
        store.write("k", _entry(f"old-{i}"))
    start = record_start()
    store.write("k", _entry("new-by-another-process"))  # slot 3, written after the start
    store.reset("k", older_than=start)
    assert _sequence(tmp_path, "k") == ["new-by-another-process"]
    store.write("k", _entry("mine"))
    assert _sequence(tmp_path, "k") == ["new-by-another-process", "mine"]


@pytest.mark.parametrize("round_", range(4))  # a race: several rounds make a miss unlikely
def test_writers_without_a_shared_lock_object_never_leave_a_hole(
    tmp_path: Path, round_: int
) -> None:
    # Each writer has its own JsonStore (its own lock object and flock descriptor), as
    # processes do; each resets the key once, then writes. Old answers are many and first.
    old_time = time.time() - 60
    for i in range(200):
        old = tmp_path / ("k.json" if i == 0 else f"k.{i}.json")
        old.write_bytes(dumps(_entry(f"old-{i}")))
        os.utime(old, (old_time, old_time))
    start = record_start()
    n_writers, per_writer = 6, 15
    stores = [JsonStore(tmp_path) for _ in range(n_writers)]

    def writer(w: int) -> None:
        stores[w].reset("k", older_than=start)
        for i in range(per_writer):
            stores[w].write("k", _entry(f"w{w}-{i}"))

    run_threads(writer, n_writers)
    sequence = _sequence(tmp_path, "k")
    assert sorted(sequence) == sorted(f"w{w}-{i}" for w in range(n_writers) for i in range(15))


def test_record_mode_keeps_what_a_recording_running_alongside_writes(tmp_path: Path) -> None:
    # Through the public API, in one process: a second recording opens while the first still
    # writes. The second replaces what was written before it began, keeps what the first wrote
    # after, and the sequence has no hole.
    answers = iter(["a", "b", "c", "d"])

    @apirec.record(name="multiprocess.poll", shared=True)
    def poll() -> str:
        return next(answers)

    first = apirec.recording(tmp_path, mode="record")
    with first:
        poll(), poll()  # a, b: before the second recording began
        with apirec.recording(tmp_path, mode="record"):
            with first:  # the first keeps writing after the second began
                poll()  # c
            poll()  # d: the second's first touch of the key resets it
    key = next(JsonStore(tmp_path).entries())[0]
    assert _sequence(tmp_path, key) == ["c", "d"]
