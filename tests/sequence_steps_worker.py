"""A process that makes one shared call in steps, signalling and waiting on files between them;
run by test_sequences_both_stores.py.

    python sequence_steps_worker.py ROOT STORE MODE NAME STEPS

STEPS is comma-separated: ``call`` makes the call, ``touch:PATH`` creates a file, ``wait:PATH``
waits for one. Prints what the calls returned as JSON; each live answer is ``NAME-<n>``.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import apirec


def main(root: str, store: str, mode: str, name: str, steps: str) -> None:
    counter = itertools.count()

    @apirec.record(name="sequence.poll", shared=True)
    def poll() -> str:
        return f"{name}-{next(counter)}"

    returned = []
    with apirec.recording(root, mode=mode, store=store):
        for step in steps.split(","):
            if step == "call":
                returned.append(poll())
            elif step.startswith("touch:"):
                Path(step[6:]).touch()
            elif step.startswith("wait:"):
                deadline = time.monotonic() + 60
                while not Path(step[5:]).exists():
                    if time.monotonic() > deadline:
                        raise SystemExit(f"no {step[5:]}")
                    time.sleep(0.005)
    print(json.dumps(returned))


if __name__ == "__main__":
    main(*sys.argv[1:])
