"""apirec's own errors point at the caller's line: a test failed by a replay miss, a call the
record budget refused or a blocked connection shows its own code and the error's message, not
the frames of apirec's source the error passed through (``--fulltrace`` shows them all).

One place for every such error, wherever in apirec it is raised or passed on: before pytest
builds a failure's report, each apirec module the error passed through gets a module-level
``__tracebackhide__`` (pytest reads it from a frame's globals when the frame has none of its
own) that hides its frames for apirec's errors only. Any other error (a bug, an SDK's) keeps
its whole traceback, and so does an error no code of the user's called (nothing would be left).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from apirec.errors import ApirecError

_SOURCE = str(Path(__file__).resolve().parents[1]) + os.sep  # the apirec package
_RUNNERS = (f"{os.sep}_pytest{os.sep}", f"{os.sep}pluggy{os.sep}")


def _ours(excinfo: Any) -> bool:
    """Pytest's question for a frame of an apirec module: hide it for this error?"""
    return isinstance(getattr(excinfo, "value", None), ApirecError)


def hide_our_frames(config: pytest.Config, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Hide apirec's frames in the traceback pytest shows for ``excinfo``, when it is one of
    apirec's errors raised under the user's code."""
    if not isinstance(excinfo.value, ApirecError) or config.getoption("fulltrace", False):
        return
    entries = list(excinfo.traceback)
    apirec_frames = [e for e in entries if str(e.path).startswith(_SOURCE)]
    callers = [
        e
        for e in entries
        if not str(e.path).startswith(_SOURCE) and not any(r in str(e.path) for r in _RUNNERS)
    ]
    if not callers:
        return
    for entry in apirec_frames:
        entry.frame.f_globals.setdefault("__tracebackhide__", _ours)
