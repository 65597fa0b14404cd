"""A JSON store's directory as the books read it: which files are recordings, and whose.

:func:`listed` finds every recording file (``<key>.json``, ``<key>.<n>.json``) as
``rglob("*.json")`` would, the top level without a ``Path`` per file: a store may hold
thousands. :func:`owner_hint` finds the test id a file names first without parsing the file,
so a run of a few tests can pass over the other tests' recordings.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from apirec.errors import StoreError
from apirec.stores.files import read_regular_file
from apirec.stores.json_format import leading_test_id

TMP_DIR = ".apirec-tmp"  # writers' temporary files: never a recording
# what a walk of a missing or unreadable directory took for "nothing there" (Path.is_dir and
# rglob); any other error is raised, not taken for an empty store
_NOTHING_LISTED = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP, errno.EACCES, errno.EPERM)
FILE_RE = re.compile(r"^(?P<key>[^.]+?)(?:\.(?P<index>[1-9][0-9]*))?\.json$")


def listed(location: str, prefix: str) -> list[tuple[str, int, str]]:
    """``(key, index, path)`` of every recording file under ``location`` (``prefix``: the
    location as file names start with it), subdirectories walked as ``rglob`` would: not
    through symbolic links, not into the temp directory."""
    found: list[tuple[str, int, str]] = []
    try:
        listing = os.scandir(location)
    except OSError as e:
        if e.errno in _NOTHING_LISTED:  # gone, not a directory, unreadable: as rglob did
            return found
        raise  # out of descriptors, an I/O error: not an empty store

    with listing:
        for entry in listing:
            m = FILE_RE.match(entry.name)
            if m:
                found.append((m["key"], int(m["index"] or 0), prefix + entry.name))
            if entry.name != TMP_DIR and _real_directory(entry):
                for path in Path(entry.path).rglob("*.json"):
                    m = FILE_RE.match(path.name)
                    if m and TMP_DIR not in path.parts:
                        found.append((m["key"], int(m["index"] or 0), str(path)))
    return found


def owner_hint(path: str) -> str | None:
    """The test id the file at ``path`` names as its only ``test_id``, its first field: a
    hint for books that skip the recordings of tests they do not judge, read without parsing
    the file (None: unknown, parse it; a regular file only, as every read of a recording)."""
    try:
        return leading_test_id(read_regular_file(path))
    except (OSError, StoreError):
        return None


def _real_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
