"""A process that records large answers in a loop until it is killed; run by test_crash.py.

    python crash_worker.py ROOT SIGNAL_DIR HOW FIRST

HOW is ``loop`` (record ``blob(FIRST)``, ``blob(FIRST + 1)``, ... forever), ``mid-write`` (stall
halfway through writing the temporary file of the third recording) or ``before-link`` (stall
with that temporary file complete, before it becomes a recording). A stall touches
``SIGNAL_DIR/stalled`` and sleeps until the test kills the process.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

import apirec

SIZE = 1 << 20  # characters of payload per recording


def payload(i: int) -> dict[str, Any]:
    data = hashlib.sha256(str(i).encode()).hexdigest() * (SIZE // 64)
    return {"i": i, "data": data, "digest": hashlib.sha256(data.encode()).hexdigest()}


@apirec.record(name="crash.blob", shared=True)  # the child runs outside any test
def blob(i: int) -> dict[str, Any]:
    return payload(i)


def stall(signals: str) -> None:
    Path(signals, "stalled").touch()
    while True:
        time.sleep(1)


def main(root: str, signals: str, how: str, first: str) -> None:
    start = int(first)
    big_writes, links = itertools.count(), itertools.count()
    real_write, real_link = os.write, os.link

    def half_write(fd: int, data: Any) -> int:
        if len(data) > SIZE and next(big_writes) == 2:
            real_write(fd, bytes(data[: len(data) // 2]))
            stall(signals)
        return real_write(fd, data)

    def stalled_link(src: Any, dst: Any, **kwargs: Any) -> None:
        if next(links) == 2:
            stall(signals)
        real_link(src, dst, **kwargs)

    if how == "mid-write":
        os.write = half_write
    elif how == "before-link":
        os.link = stalled_link
    with apirec.recording(root, mode="record"):
        for i in itertools.count(start):
            blob(i)
            Path(signals, f"done-{i}").touch()


if __name__ == "__main__":
    main(*sys.argv[1:])
