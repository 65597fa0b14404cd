"""A process that answers one shared call a few times inside a recording; run by
test_sequences_both_stores.py.

    python sequence_worker.py ROOT STORE MODE NAME CALLS [READY_FILE GO_FILE]

With READY_FILE and GO_FILE: opens the recording, creates READY_FILE, and makes its calls only
once GO_FILE exists (so another process can record in between). Prints what the calls
returned as JSON; each live answer is ``NAME-<n>``.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import apirec


def main(root: str, store: str, mode: str, name: str, calls: str, *files: str) -> None:
    counter = itertools.count()

    @apirec.record(name="sequence.poll", shared=True)
    def poll() -> str:
        return f"{name}-{next(counter)}"

    with apirec.recording(root, mode=mode, store=store):
        if files:
            ready, go = map(Path, files)
            ready.touch()
            deadline = time.monotonic() + 60
            while not go.exists():
                if time.monotonic() > deadline:
                    raise SystemExit("no go signal")
                time.sleep(0.005)
        returned = [poll() for _ in range(int(calls))]
    print(json.dumps(returned))


if __name__ == "__main__":
    main(*sys.argv[1:])
