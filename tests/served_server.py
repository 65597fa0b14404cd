"""A server under test in its own process: the Starlette app of tests/served_apps.py behind
apirec's middleware, with one recording open around it (as ``apirec run`` opens one).

    python -m tests.served_server DIR MODE    prints "PORT <n>" once it serves on 127.0.0.1
"""

from __future__ import annotations

import sys

import apirec
from tests.served_apps import Served, starlette_app


def main(directory: str, mode: str) -> None:
    with apirec.recording(directory, mode=mode):
        served = Served(starlette_app()).start()
        print(f"PORT {served.port}", flush=True)
        served.join()  # until the test run terminates this process


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
