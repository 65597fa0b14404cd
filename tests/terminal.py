"""Run ``apirec`` in a real process whose stdout or stderr is a terminal (a pseudo-terminal of
a given width), as a user at a shell runs it."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_on_terminal(
    argv: list[str], *, columns: int = 80, stream: str = "stdout"
) -> tuple[int, str, str]:
    """``python -m apirec ARGV`` with ``stream`` ("stdout" or "stderr") on a terminal of
    ``columns`` columns and the other piped; returns (exit code, terminal text, piped text)."""
    main, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(ROOT)
    terminal = {"stdout": follower} if stream == "stdout" else {"stderr": follower}
    piped = {"stderr": subprocess.PIPE} if stream == "stdout" else {"stdout": subprocess.PIPE}
    process = subprocess.Popen(
        [sys.executable, "-m", "apirec", *argv], cwd=ROOT, env=env, **terminal, **piped
    )
    os.close(follower)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    pipe = process.stderr if stream == "stdout" else process.stdout
    assert pipe is not None
    with pipe:
        other = pipe.read()
    code = process.wait()
    # the terminal turns "\n" into "\r\n"
    return code, shown.decode().replace("\r\n", "\n"), other.decode()
