"""The objects a usage report lists for ``apirec gc REMOTE --usage``, and what it could not read.

A report stands for a checkout that is not at hand, so it must list every object the
recordings of that checkout's suite may need, not only those of the tests that ran: it reads
the stores the run opened and the store of every test it collected, selected or deselected
(``-k``, ``-m``, a sharding plugin), run or skipped. What it cannot read it says
(``unreadable``): the objects such a recording needs are unknown, and ``gc`` then deletes
nothing, as it does over a checkout. The files are read as ``apirec gc DIR`` reads them: every
JSON file under the store (its subdirectories too, hidden ones aside), and the msgpack store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.json_format import Entry, parse
from apirec.stores.msgpack.store import stored_entries
from apirec.stores.msgpack.writer import FILE_NAME


class Found:
    """The digests met so far, the response bodies among them, and what could not be read."""

    def __init__(self) -> None:
        self.objects: set[str] = set()
        self.bodies: set[str] = set()
        self.unreadable: list[str] = []

    def add(self, entry: Entry, where: str) -> None:
        self.objects.update(d for d, _ in blobs.references(entry, where))
        self.bodies.update(d for d, _ in blobs.body_references(entry, where))

    def report(self) -> dict[str, list[str]]:
        return {
            "objects": sorted(self.objects),
            "body_objects": sorted(self.bodies),
            "unreadable": sorted(set(self.unreadable)),
        }


def referenced_objects(stores: Iterable[str]) -> dict[str, list[str]]:
    """``objects``, ``body_objects`` and ``unreadable``: the digests of the objects the
    recordings in ``stores`` (JSON and msgpack) refer to, those of the response bodies among
    them, and the recordings (or stores) that could not be read, each with why."""
    found = Found()
    for store in sorted(set(stores)):
        root = Path(store)
        if not root.exists():  # a store no test has recorded into yet
            continue
        if not root.is_dir():
            found.unreadable.append(f"{root}: not a directory, where recordings are stored")
            continue
        for path in _json_files(root, found):
            _read_json(path, found)
        if (root / FILE_NAME).exists():
            _read_msgpack(root, found)
    return found.report()


def _json_files(root: Path, found: Found) -> list[Path]:
    """The JSON files under ``root``, hidden directories (temporary files) left out."""
    files: list[Path] = []

    def failed(e: OSError) -> None:
        found.unreadable.append(f"{e.filename}: cannot be listed: {e.strerror or e}")

    for here, dirs, names in os.walk(root, onerror=failed):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(here, n) for n in sorted(names) if n.endswith(".json")]
    return files


def _read_json(path: Path, found: Found) -> None:
    """Add the references of one recording file. A file that holds a reference is parsed as a
    recording; any other must at least be JSON: a damaged file (a merge conflict, a truncated
    write) may have lost the references it had."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        found.unreadable.append(f"{path}: cannot be read: {e.strerror or e}")
        return
    try:
        if blobs.MARKER in raw:
            found.add(parse(raw, str(path)), str(path))
        else:
            json.loads(raw)
    except StoreError as e:
        found.unreadable.append(str(e))
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError too
        found.unreadable.append(f"{path}: not valid JSON ({e})")


def _read_msgpack(root: Path, found: Found) -> None:
    try:
        for where, entry in stored_entries(root):
            try:
                if isinstance(entry, StoreError):
                    raise entry
                found.add(entry, where)
            except StoreError as e:
                found.unreadable.append(str(e))
    except StoreError as e:  # the store or its index
        found.unreadable.append(str(e))
