"""A replay whose payloads are in the warm cache never opens the remote: no client is built
(milliseconds per recording) and the client library is not even imported, so a job with a
restored cache replays without it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import apirec

pytest.importorskip("obstore")

REPLAY = """
import hashlib, sys
import apirec

@apirec.record(name="tts.speak")
def speak(text):
    raise AssertionError("replay must not call")

with apirec.recording(sys.argv[1], mode="replay", remote=sys.argv[2], test_id="t::warm"):
    data = speak("warm")
assert hashlib.sha256(data).hexdigest() == sys.argv[3], "another payload"
print("obstore imported" if "obstore" in sys.modules else "obstore not imported")
"""


@apirec.record(name="tts.speak")
def speak(text: str) -> bytes:
    block = hashlib.sha256(text.encode()).digest()
    return (block * 4000)[: 100 * 1024]


def _replay(root: Path, remote: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APIREC_CACHE_DIR": str(cache), "PYTHONPATH": os.pathsep.join(sys.path)}
    digest = hashlib.sha256(speak.__wrapped__("warm")).hexdigest()
    argv = [sys.executable, "-c", REPLAY, str(root), remote, digest]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


def test_replay_from_a_warm_cache_opens_no_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("APIREC_CACHE_DIR", str(cache))
    remote = f"file://{tmp_path / 'remote'}"
    root = tmp_path / "recordings"
    with apirec.recording(root, mode="record", remote=remote, test_id="t::warm"):
        speak("warm")

    warm = _replay(root, remote, cache)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.strip() == "obstore not imported"

    cold = _replay(root, remote, tmp_path / "cold-cache")  # fetched: the client is needed
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout.strip() == "obstore imported"
