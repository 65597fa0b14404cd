"""A process that records into a shared store; run by test_multiprocess.py.

    python recorder_worker.py ROOT MODE WORKER_ID SIGNAL_DIR

Opens the recording, says it is ready, waits for the go signal (so every process is recording
before any answer is written), then makes its calls and prints what it got and what it
answered live as JSON.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import apirec

OWN_KEYS = 20
SHARED_KEYS = 4
SHARED_CALLS = 10  # per shared key and per process

produced: list[str] = []
_counter = itertools.count()


def plan(worker: str) -> list[str]:
    """Topics in call order: own keys interleaved with calls of keys every process shares."""
    own = [f"own-{worker}-{i}" for i in range(OWN_KEYS)]
    shared = [f"shared-{i % SHARED_KEYS}" for i in range(SHARED_KEYS * SHARED_CALLS)]
    topics: list[str] = []
    for i in range(max(len(own), len(shared))):
        topics += own[i : i + 1] + shared[2 * i : 2 * i + 2]
    return topics


def main(root: str, mode: str, worker: str, signals: str) -> None:
    @apirec.record(name="multiprocess.ask", shared=True)
    def ask(topic: str) -> dict[str, str]:
        token = f"{worker}-{next(_counter)}"
        produced.append(token)
        return {"topic": topic, "token": token}

    returned = []
    with apirec.recording(root, mode=mode):
        Path(signals, f"ready-{worker}").touch()
        deadline = time.monotonic() + 60
        while not Path(signals, "go").exists():
            if time.monotonic() > deadline:
                raise SystemExit("no go signal")
            time.sleep(0.005)
        for topic in plan(worker):
            returned.append(ask(topic))
    print(json.dumps({"returned": returned, "produced": produced}))


if __name__ == "__main__":
    main(*sys.argv[1:])
