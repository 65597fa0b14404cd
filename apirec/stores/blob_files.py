"""The ``blobs/`` directory beside the recordings: one file per payload, named by its sha256.

Written atomically (a temporary file renamed into place) and before the recording that refers
to it, so a crash never leaves a reference to a missing blob. Read back only as a regular file
named by a validated digest (never a symbolic link), and checked against its digest: an
altered or missing blob is a :class:`StoreError` naming the recording and the blob.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.files import io_error, write_atomically

DIR = "blobs"


class BlobFiles:
    """The blobs of the recordings in directory ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / DIR

    def path(self, digest: str) -> Path:
        return self.dir / digest  # digest: 64 hex digits, checked by blobs.check_reference

    def put(self, digest: str, data: bytes, tmp_dir: Path) -> None:
        """Store ``data`` (whose sha256 is ``digest``) unless an intact copy is there."""
        target = self.path(digest)
        with contextlib.suppress(StoreError, FileNotFoundError):
            if self._read(target) == data:
                return
        if self.dir.is_symlink():  # a pull request's link would send recordings elsewhere
            raise StoreError(
                f"{self.dir}: a symbolic link, not a blobs directory", path=str(target)
            )
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise io_error(target, "written", e) from None
        write_atomically(tmp_dir, data, target)

    def get(self, digest: str, size: int, where: str) -> bytes:
        """The payload ``where`` (a recording) refers to, checked against its digest."""
        path = self.path(digest)
        try:
            data = self._read(path)
        except FileNotFoundError:
            raise StoreError(
                f"{where}: refers to the blob {path}, which is missing (restore it from "
                f"version control, or record the answer again; if these recordings keep "
                f"large payloads in a remote store, give its URL: remote=, --apirec-remote "
                f"or APIREC_REMOTE)",
                path=where,
            ) from None
        except StoreError as e:
            raise StoreError(f"{where}: refers to the blob {e}", path=where) from None
        actual = blobs.digest_of(data) if len(data) == size else None
        if actual != digest:
            found = f"sha256 {actual}" if actual else f"{len(data):,} bytes, not {size:,}"
            raise StoreError(
                f"{where}: refers to the blob {path}, which was altered ({found}; the "
                f"recording expects sha256 {digest})",
                path=where,
            )
        return data

    def fetcher(self, where: str) -> blobs.Fetch:
        return lambda digest, size: self.get(digest, size, where)

    @staticmethod
    def _read(path: Path) -> bytes:
        """A regular file's bytes; a symbolic link, FIFO or device is refused (a pull request
        could put one in blobs/ to make replay read some other file)."""
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            raise
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise StoreError(f"{path}, a symbolic link, not a blob", path=str(path)) from None
            raise io_error(path, "read", e) from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StoreError(f"{path}, which is not a regular file", path=str(path))
            return f.read()

    def names(self) -> list[str]:
        """The digests of the blobs stored here (files named otherwise are not blobs)."""
        try:
            found = os.listdir(self.dir)
        except OSError:
            return []
        return sorted(n for n in found if blobs.is_digest(n))

    def unreferenced(self, recordings: Iterable[Path]) -> tuple[list[Path], str | None]:
        """The blobs no recording of ``recordings`` refers to, or ``([], why)`` when some
        recording cannot be read: then which blobs it needs is unknown, and none may go."""
        stored = self.names()
        if not stored:
            return [], None
        referenced: set[str] = set()
        for path in recordings:
            try:
                raw = path.read_bytes()
                if blobs.MARKER in raw:
                    entry = json.loads(raw)
                    referenced.update(d for d, _ in blobs.references(entry, str(path)))
            except (OSError, ValueError, RecursionError, StoreError) as e:
                return [], f"{path} cannot be read ({e}), so its blobs are unknown"
        return [self.path(d) for d in stored if d not in referenced], None


def recordings_beside(directory: Path) -> Iterator[Path]:
    """The recording files whose blobs are in ``directory / "blobs"``: the JSON files there."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(".json") and entry.is_file():
            yield Path(entry.path)


def remove_unreferenced(directory: Path, *, dry_run: bool = False) -> tuple[list[Path], str | None]:
    """Delete (or with ``dry_run`` only list) the blobs in ``directory`` that no recording
    there refers to; ``why`` when none could be judged."""
    files = BlobFiles(directory)
    doomed, why = files.unreferenced(recordings_beside(directory))
    if dry_run:
        return doomed, why
    gone: list[Path] = []
    for path in doomed:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            return gone, f"{path}: cannot be deleted: {e.strerror or e}"
        gone.append(path)
    return gone, why


def referenced_by(recording: Path) -> set[str]:
    """The digests of the blobs the recording file ``recording`` refers to (none when it
    cannot be read: then nothing is removed on its account)."""
    try:
        raw = recording.read_bytes()
        if blobs.MARKER not in raw:
            return set()
        return {d for d, _ in blobs.references(json.loads(raw), str(recording))}
    except (OSError, ValueError, RecursionError, StoreError):
        return set()


def remove_if_unreferenced(directory: Path, digests: Iterable[str]) -> list[Path]:
    """Delete the blobs of ``digests`` that no recording in ``directory`` refers to (a
    recording replaced in place left them behind); keep them all when some recording cannot
    be read. Run under the store lock, as writers put a blob and its recording under it."""
    candidates = set(digests)
    if not candidates:
        return []
    files = BlobFiles(directory)
    unreferenced, why = files.unreferenced(recordings_beside(directory))
    if why is not None:
        return []
    gone = []
    for path in unreferenced:
        if path.name in candidates:
            with contextlib.suppress(OSError):  # left for `apirec prune`: the answer is stored
                path.unlink()
                gone.append(path)
    return gone
