"""The index of every msgpack store this process wrote to, brought up to date as it ends.

A writer rewrites a store's index only once more than ``REINDEX_AT`` frames lie past it (so
a session recording one test at a time does not rewrite the whole index per test), which
leaves up to that many frames unindexed when the session ends, and every later open of the
store scans them: 0.5-0.9 ms per test of a replayed suite. So each store a process appends
to is noted here, and when the process ends (``atexit``), or the pytest plugin's session
does, each is opened afresh and its index rewritten if frames lie past it
(:meth:`apirec.stores.msgpack.file.StoreFile.update_index`): once per session, under the
file lock, after taking in the frames other writers (xdist workers) appended, so the last
writer's index covers them all. The index is derived data written atomically (a temporary
file, then a rename): a process that dies before this leaves the store as it was, its next
open scanning the unindexed frames.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from apirec.errors import StoreError


class Indexed(Protocol):
    def update_index(self) -> None: ...

    def close(self) -> None: ...


_written: dict[str, Callable[[Path], Indexed]] = {}
_lock = threading.Lock()
_hooked: list[bool] = []


def note_written(root: Path, opener: Callable[[Path], Indexed]) -> None:
    """The store in ``root`` got frames from this process; ``opener`` opens it again."""
    where = os.path.abspath(root)  # a later chdir (pytester's) must not move it
    if where in _written:
        return
    with _lock:
        _written[where] = opener
        if not _hooked:
            atexit.register(update_indexes)
            _hooked.append(True)


def update_indexes() -> None:
    """Bring the index of every store noted since the last call up to date."""
    with _lock:
        written = list(_written.items())
        _written.clear()
    for where, opener in written:
        try:
            store = opener(Path(where))
        except (StoreError, OSError):
            continue  # gone, or unreadable: its next open says so, with the reason
        try:
            store.update_index()
        except (StoreError, OSError):
            pass  # damage fails every read of the store by name; the index only saves time
        finally:
            store.close()
