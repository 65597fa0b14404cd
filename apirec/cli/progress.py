"""Progress of long commands (drift, verify, convert, scan, prune) on stderr: one line,
redrawn at most ten times a second, erased when the work is done. Only on a terminal: a pipe,
a file or ``-q`` gets nothing, so scripts and logs see the results alone."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from apirec.cli.base import plural

_EVERY = 0.1  # seconds between redraws


class Progress:
    """``verify: 1,234 of 10,000 recordings`` (or ``1,234 recordings`` when the total is not
    known yet); a context manager that erases its line on the way out."""

    def __init__(self, command: str, what: str = "recording", *, quiet: bool = False) -> None:
        self.command, self.what = command, what
        self.total: int | None = None
        self.done = 0
        self._shown = 0  # characters on the line now
        self._next = 0.0
        try:
            self.on = not quiet and sys.stderr.isatty()
        except (ValueError, AttributeError):
            self.on = False

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.on and (now := time.monotonic()) >= self._next:
            self._next = now + _EVERY
            if self.total is None:
                self._draw(f"{self.command}: {plural(self.done, self.what)}")
            else:
                self._draw(f"{self.command}: {self.done:,} of {plural(self.total, self.what)}")

    def _draw(self, text: str) -> None:
        sys.stderr.write("\r" + text.ljust(self._shown))
        sys.stderr.flush()
        self._shown = len(text)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish()

    def finish(self) -> None:
        """Erase the line (before printing results)."""
        if self.on and self._shown:
            sys.stderr.write("\r" + " " * self._shown + "\r")
            sys.stderr.flush()
            self._shown = 0
