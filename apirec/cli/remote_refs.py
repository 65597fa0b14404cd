"""The objects a checkout's recordings refer to, for ``push``, ``pull`` and ``gc``: one walk
over the recordings under the directories given (JSON files, each read once and parsed only
when its bytes hold a reference; and msgpack stores).

A reference (:mod:`apirec.stores.blobs`) names an object by its sha256, kept in ``blobs/``
beside the recording or in the remote store (``remote=``); which of the two holds it is not
written in the recording. A response body kept as an object (``apirec.json``) may hold bytes
references of its own: :func:`inside` reads them from the body's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from apirec.cli.common import msgpack_stores, recording_files
from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.blob_files import BlobFiles
from apirec.stores.json_format import Entry, parse
from apirec.stores.remote.cache import Cache


@dataclass
class Wanted:
    """An object recordings refer to: its digest and size, the first recording that refers
    to it (named in messages) and the directory it is in (whose ``blobs/`` may hold the
    object), how many recordings do, and whether it is a response body (JSON that may refer
    to more objects)."""

    digest: str
    size: int
    recording: str
    home: Path
    count: int = 1
    body: bool = False


@dataclass
class Walk:
    objects: dict[str, Wanted]  # by digest, in the order first met
    recordings: int  # files read
    problems: list[str]  # recordings that cannot be read: which objects they need is unknown

    def add(self, wanted: Wanted) -> bool:
        """Count ``wanted``; whether it is new."""
        known = self.objects.get(wanted.digest)
        if known is None:
            self.objects[wanted.digest] = wanted
            return True
        if known.size != wanted.size:
            self.problems.append(
                f"{wanted.recording}: refers to the object {wanted.digest} as "
                f"{wanted.size:,} bytes, where {known.recording} says {known.size:,}: one of "
                f"them was altered"
            )
        else:
            known.count += 1
        return False


def walk(
    dirs: Sequence[str], step: Callable[[], None] = lambda: None, *, every: bool = False
) -> Walk:
    """The objects the recordings under ``dirs`` refer to directly. ``every``: parse each
    file, not only those whose bytes hold a reference (``gc``: a damaged file may have lost
    its references, and a file that cannot be read is a problem, never "no objects")."""
    found = Walk({}, 0, [])
    for directory in dirs:
        for path in recording_files(Path(directory), msgpack=True):
            found.recordings += 1
            step()
            try:
                for wanted in references_of(path, every=every):
                    found.add(wanted)
            except StoreError as e:
                found.problems.append(str(e))
        for root in msgpack_stores(Path(directory)):
            _walk_store(root, found, step)
    return found


def _walk_store(root: Path, found: Walk, step: Callable[[], None]) -> None:
    """The references of every recording of the msgpack store in ``root``."""
    from apirec.stores.msgpack.store import stored_entries

    try:
        for where, entry in stored_entries(root):
            found.recordings += 1
            step()
            if isinstance(entry, StoreError):
                found.problems.append(str(entry))
                continue
            try:
                for wanted in _references(entry, where, root):
                    found.add(wanted)
            except StoreError as e:
                found.problems.append(str(e))
    except StoreError as e:  # the store or its index
        found.problems.append(str(e))


def references_of(path: Path, *, every: bool = False) -> list[Wanted]:
    """The objects the recording file ``path`` refers to directly (``every``: parsed even
    when its bytes hold no reference, so that a damaged file is an error)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror or e}", path=str(path)) from None
    if blobs.MARKER not in raw and not every:
        return []
    return _references(parse(raw, str(path)), str(path), path.parent)


def _references(entry: Entry, where: str, home: Path) -> list[Wanted]:
    bodies = {d for d, _ in blobs.body_references(entry, where)}
    refs = blobs.references(entry, where)
    return [Wanted(d, n, where, home, body=d in bodies) for d, n in refs]


def inside(body: Wanted, data: bytes) -> list[Wanted]:
    """The bytes objects a response body object (``data``, checked) refers to."""
    where = body.recording
    if blobs.MARKER not in data:  # most bodies refer to nothing: no need to parse them
        return []
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise StoreError(
            f"{where}: the body object {body.digest} it refers to is not JSON ({e})", path=where
        ) from None
    return [Wanted(d, n, where, body.home) for d, n in blobs.references(value, where)]


def new_inside(found: Walk, bodies: Iterable[tuple[Wanted, bytes | None]]) -> list[Wanted]:
    """The objects the body objects given refer to that ``found`` does not hold yet (added to
    it); a body that cannot be read is a problem of ``found``."""
    more: list[Wanted] = []
    for body, data in bodies:
        if data is None:
            continue
        try:
            more += [w for w in inside(body, data) if found.add(w)]
        except StoreError as e:
            found.problems.append(str(e))
    return more


def local_copy(wanted: Wanted, cache: Cache) -> bytes | None:
    """The object's bytes from the ``blobs/`` beside its recording or the cache, if one of
    them holds an intact copy."""
    try:  # checked against the digest by get
        return BlobFiles(wanted.home).get(wanted.digest, wanted.size, wanted.recording)
    except StoreError:
        pass
    data = cache.cached(wanted.digest)  # checked against the digest
    return data if data is not None and len(data) == wanted.size else None
