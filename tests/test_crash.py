"""A process killed (SIGKILL) while it records leaves only complete recordings.

tests/crash_worker.py records 1 MB answers in a loop; the test kills it at arbitrary moments,
and at two chosen ones: halfway through writing a temporary file, and with a complete
temporary file not yet turned into a recording. Every recording left must be complete and
decode to what was recorded; temporary files are never read as recordings, and the next open
of the store removes those of dead processes (and only those).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import apirec
from apirec.stores.files import host_tag
from apirec.stores.json_store import TMP_DIR, JsonStore, parse

from .crash_worker import blob, payload

WORKER = Path(__file__).with_name("crash_worker.py")


def start_worker(root: Path, signals: Path, how: str, first: int) -> subprocess.Popen[bytes]:
    signals.mkdir(exist_ok=True)
    with open(signals / f"stderr-{first}-{how}", "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, str(WORKER), str(root), str(signals), how, str(first)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, f"worker exited early with {proc.returncode}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def kill(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)  # reaped: its pid is no longer alive
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def check_recordings(root: Path) -> list[int]:
    """Every recording decodes to exactly what was recorded; return the indexes found."""
    store = _no_cleanup(root)
    found = []
    for key, index, path in store.entries():
        assert index == 0
        entry = store.read(key, index)
        assert entry is not None, path
        body = apirec.decode(entry["response"]["body"], file=path)
        assert body == payload(body["i"]), f"{path} does not hold what was recorded"
        found.append(body["i"])
    return sorted(found)


def leftovers(root: Path, pid: int) -> list[Path]:
    tmp = root / TMP_DIR  # removed at close when empty
    return [p for p in tmp.iterdir() if p.name.startswith(f"{pid}-")] if tmp.exists() else []


def replay_all(root: Path, indexes: list[int]) -> None:
    """Through the public API: every complete recording replays; the killed one is a miss."""
    with apirec.recording(root, mode="replay") as rec:
        for i in indexes:
            assert blob(i) == payload(i)
        with pytest.raises(apirec.RecordingNotFound):
            blob(max(indexes) + 1)
    assert rec.stats.replayed == len(indexes)


def test_kill_at_arbitrary_moments_leaves_only_complete_recordings(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    first = 0
    for delay in (0.0, 0.013, 0.031, 0.057):
        proc = start_worker(root, tmp_path / "signals", "loop", first)
        second = tmp_path / "signals" / f"done-{first + 1}"
        wait_for(second.exists, proc, "two recordings")
        time.sleep(delay)
        pid = kill(proc)
        found = check_recordings(root)
        assert found == list(range(len(found))), "recordings written in order, none lost"
        first = len(found)
        JsonStore(root)  # the next open removes what the dead writer left
        assert leftovers(root, pid) == []
    replay_all(root, found)


@pytest.mark.parametrize("how", ["mid-write", "before-link"])
def test_kill_during_a_write_leaves_a_temporary_file_never_read(tmp_path: Path, how: str) -> None:
    root = tmp_path / "recordings"
    signals = tmp_path / "signals"
    proc = start_worker(root, signals, how, 0)
    wait_for((signals / "stalled").exists, proc, "the stalled write")
    pid = kill(proc)

    left = leftovers(root, pid)
    assert len(left) == 1, "the interrupted write left its temporary file"
    raw = left[0].read_bytes()
    if how == "mid-write":  # half a recording
        with pytest.raises(apirec.StoreError):
            parse(raw, str(left[0]))
    else:  # a whole recording, not yet in place
        assert parse(raw, str(left[0]))["response"]["body"] == payload(2)
    assert check_recordings(root) == [0, 1], "only the two complete recordings"
    assert all(TMP_DIR not in path for _, _, path in _no_cleanup(root).entries())

    # A temporary file of a live process (this one) is kept, and so is a fresh one from another
    # host (or container) sharing the directory, where a pid says nothing; the dead writer's goes.
    live = root / TMP_DIR / f"{os.getpid()}-{host_tag()}-inflight.tmp"
    live.write_bytes(b"{")
    foreign = root / TMP_DIR / f"{pid}-other_host-inflight.tmp"
    foreign.write_bytes(b"{")
    replay_all(root, [0, 1])  # opening the store cleans up
    assert leftovers(root, pid) == [foreign]
    assert live.exists()
    # ... until it is old: then its writer is gone too
    os.utime(foreign, (time.time() - 3600, time.time() - 3600))
    JsonStore(root)
    assert not foreign.exists()


def _no_cleanup(root: Path) -> JsonStore:
    """The store at ``root`` without the cleanup that opening it does."""
    store = JsonStore.__new__(JsonStore)
    store.root, store.location = root, str(root)
    return store
