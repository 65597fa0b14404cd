"""Where recordings live (DESIGN §6): the JSON directory store (the interface every store
keeps: :mod:`apirec.stores.store_interface`).

One pretty JSON file per answer, in the schema of llama-stack's recorder. The n-th answer for
a key is ``<key>.json``, ``<key>.1.json``, ``<key>.2.json``, ... Opening a store reads nothing;
a file is parsed only when its key is asked for. Writes go to a temporary file in
``.apirec-tmp/`` and are moved into place atomically, so a crash never leaves half a file.
Bytes over 64 KiB are written once to ``blobs/<sha256>`` and referred to from the JSON
(:mod:`apirec.stores.blobs`); reading puts them back, checked, so callers see whole entries.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from apirec.errors import StoreError
from apirec.gate.rules import NO_RULES, Rules
from apirec.stores import blobs
from apirec.stores.blob_files import (
    BlobFiles,
    referenced_by,
    remove_if_unreferenced,
    remove_unreferenced,
)
from apirec.stores.files import clean_temp_files, read_regular_file, same_file, write_temp
from apirec.stores.files import io_error as _io_error
from apirec.stores.json_format import Entry, check_entry, dumps, parse, stored_form
from apirec.stores.json_listing import FILE_RE, TMP_DIR, listed, owner_hint
from apirec.stores.store_interface import Store

if TYPE_CHECKING:  # a remote store's modules load with the first recording that has one
    from apirec.stores.remote.payloads import RemotePayloads

__all__ = ["TMP_DIR", "Entry", "JsonStore", "Store", "check_entry", "dumps", "parse"]

if sys.platform != "win32":
    import fcntl

_ATTEMPTS = 5  # at making, locking and writing into the temp directory, which tidy may remove

# what Path.exists() takes for "no such file" (pathlib's _IGNORED_ERRNOS)
_NOT_THERE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)
_NOT_THERE_WINDOWS = (21, 123, 1921)  # not ready, invalid name, cannot access the link


class JsonStore:
    """A directory of pretty JSON recordings; see the module docstring."""

    def __init__(
        self, path: str | os.PathLike[str], *, remote: RemotePayloads | None = None
    ) -> None:
        # a recording opens its store once per test: a Path it is given is not parsed again
        self.root = path if isinstance(path, Path) else Path(path)
        self.location = str(self.root)
        self._thread_lock = threading.Lock()
        self.remote = remote  # remote=: large payloads (bodies too) go to object storage
        # Leftovers of writers that died; this directory holds only those, so it stays small.
        clean_temp_files(os.path.join(self.location, TMP_DIR))

    @functools.cached_property
    def _blobs(self) -> BlobFiles:
        return BlobFiles(self.root)

    def file(self, key: str, index: int) -> Path:
        return self.root / (f"{key}.json" if index == 0 else f"{key}.{index}.json")

    def describe(self, key: str, index: int) -> str:
        return str(self.file(key, index))

    def place(self, key: str, index: int) -> tuple[str, str | None]:
        """The file that holds the recording, and its name inside that file when the file
        holds many (None here: the file is the recording)."""
        return str(self.file(key, index)), None

    @functools.cached_property
    def _prefix(self) -> str:
        # file names as strings on the read path: what str(self.file(...)) gives, without
        # building a Path per lookup
        return "" if self.location == "." else os.path.join(self.location, "")

    def _name(self, key: str, index: int) -> str:
        return f"{self._prefix}{key}.json" if index == 0 else f"{self._prefix}{key}.{index}.json"

    def read(self, key: str, index: int, *, resolve_blobs: bool = True) -> Entry | None:
        """The stored answer, its large bytes read back from ``blobs/`` unless
        ``resolve_blobs`` is false (references left in place: for books that need only the
        test id or the request)."""
        path = self._name(key, index)
        try:
            raw = read_regular_file(path)
        except FileNotFoundError:
            return None
        except StoreError:
            raise
        except OSError as e:
            raise _io_error(Path(path), "read", e) from None
        return self._parse(raw, path) if resolve_blobs else parse(raw, path)

    def owner_hint(
        self, key: str, index: int, memo: dict[str, str | None] | None = None
    ) -> str | None:
        """The test id a recording's file names first (:func:`json_listing.owner_hint`),
        kept in ``memo`` by file name for the next book that asks (the session's end)."""
        name = self._name(key, index)
        if memo is not None and name in memo:
            return memo[name]
        hint = owner_hint(name)
        if memo is not None:
            memo[name] = hint
        return hint

    def _parse(self, raw: bytes, where: str) -> Entry:
        entry = parse(raw, where)
        if blobs.MARKER not in raw:  # the common case: one scan of the bytes, no walk
            return entry
        fetch = self._blobs.fetcher(where) if self.remote is None else self.remote.fetcher(where)
        return blobs.join(entry, fetch, where)  # type: ignore[no-any-return]

    def _stored_form(
        self, entry: Entry, rules: Rules, target: Path
    ) -> tuple[bytes, dict[str, bytes]]:
        return stored_form(entry, rules, self.remote, str(target))  # every write passes here

    def _put_blobs(self, payloads: dict[str, bytes], target: Path) -> None:
        for digest, payload in payloads.items():  # before the recording that refers to them
            self._blobs.put(digest, payload, self._tmp_dir(target))

    def remove_unreferenced_blobs(self, *, dry_run: bool = False) -> tuple[list[Path], str | None]:
        """Delete the blobs no recording here refers to (under the store lock, so a writer's
        blob and its recording appear together): :func:`blob_files.remove_unreferenced`."""
        if not self._blobs.names():
            return [], None
        with self._locked(self._blobs.dir):
            return remove_unreferenced(self.root, dry_run=dry_run)

    def count(self, key: str) -> int:
        n = 0
        while True:
            try:
                os.stat(self._name(key, n))
            except ValueError:  # a name the file system cannot encode
                return n
            except OSError as e:
                if e.errno in _NOT_THERE or getattr(e, "winerror", None) in _NOT_THERE_WINDOWS:
                    return n
                # a directory that cannot be searched: EACCES, EIO
                raise _io_error(self.file(key, n), "read", e) from None
            n += 1

    def write(self, key: str, entry: Entry, *, start: int = 0, rules: Rules = NO_RULES) -> int:
        """Store ``entry`` in the first free slot at or after ``start``; return that slot.

        Claiming a slot is exclusive (``os.link`` fails when the name exists) and happens under
        the store lock, so processes and threads writing the same key never overwrite each
        other's answers, and a concurrent :meth:`reset` never leaves a hole in the sequence.
        """
        first = self.file(key, start)
        data, payloads = self._stored_form(entry, rules, first)
        tmp = self._write_temp(data, first)
        try:
            with self._locked(first):
                self._put_blobs(payloads, first)
                index = start
                while True:
                    target = self.file(key, index)
                    try:
                        os.link(tmp, target)
                        return index
                    except FileExistsError:
                        index += 1
                    except OSError as e:
                        raise _io_error(target, "written", e) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def replace(self, key: str, index: int, entry: Entry, *, rules: Rules = NO_RULES) -> None:
        """Store ``entry`` in slot ``index``, in place of the answer there (an expired answer
        recorded again): atomically, so readers see the old answer or the new one. Written in
        the stored form :meth:`write` uses (large bytes to ``blobs/``); a blob only the old
        answer referred to goes with it."""
        target = self.file(key, index)
        data, payloads = self._stored_form(entry, rules, target)
        tmp = self._write_temp(data, target)
        try:
            with self._locked(target):
                old = referenced_by(target)
                self._put_blobs(payloads, target)
                os.replace(tmp, target)
                # content-addressed and shared: only those no recording here refers to now
                remove_if_unreferenced(self.root, old - payloads.keys())
        except OSError as e:
            raise _io_error(target, "written", e) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def close_gap(self, key: str, index: int) -> bool:
        """Slot ``index`` of ``key`` will stay empty (its call got no answer): move every answer
        after it down one slot, keeping their order (slots between may still be empty, waiting
        for calls in flight). Returns whether any moved."""
        with self._locked(self.file(key, 0)):
            if self.file(key, index).exists():  # filled since (by another writer)
                return False
            later = sorted(i for i in self._indices(key) if i > index)
            for i in later:  # ascending: each target is the gap or was just vacated
                source = self.file(key, i)
                try:
                    os.rename(source, self.file(key, i - 1))
                except OSError as e:
                    raise _io_error(source, "moved", e) from None
            return bool(later)

    def _indices(self, key: str) -> list[int]:
        try:
            names = [e.name for e in os.scandir(self.root) if e.name.startswith(key)]
        except FileNotFoundError:
            return []
        except OSError as e:
            raise _io_error(self.root, "read", e) from None
        found = []
        for name in names:
            m = FILE_RE.match(name)
            if m is not None and m["key"] == key:
                found.append(int(m["index"] or 0))
        return found

    def write_named(self, name: str, entry: Entry, *, rules: Rules = NO_RULES) -> str:
        """Store ``entry`` as file ``name``, replacing it (formats that name files by content).

        Returns the file's key as :meth:`entries` lists it.
        """
        if "/" in name or "\\" in name or not name.endswith(".json") or name.startswith("."):
            raise ValueError(f"not a recording file name: {name!r}")
        target = self.root / name
        data, payloads = self._stored_form(entry, rules, target)
        tmp = self._write_temp(data, target)
        try:
            with self._locked(target):
                self._put_blobs(payloads, target)
                os.replace(tmp, target)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise _io_error(target, "written", e) from None
        return name[: -len(".json")]

    def other_names(self, key: str) -> list[tuple[str, str, Entry]]:
        """``(listed key, path, recording)`` of ``key`` filed as ``<prefix>-<key>-<suffix>.json``.

        Sorted by name; the listed key is the file's key in :meth:`entries`. Asked only after
        ``<key>.json`` was not found (llama-stack's ``models-<key>-<digest>.json``).
        """
        if not key.isalnum():
            return []
        try:
            paths = sorted(self.root.glob(f"*-{key}-*.json"))
        except OSError as e:
            raise _io_error(self.root, "listed", e) from None
        entries = []
        for path in paths:
            try:
                raw = read_regular_file(path)
            except StoreError:
                raise
            except OSError as e:
                raise _io_error(path, "read", e) from None
            entries.append((path.name[: -len(".json")], str(path), self._parse(raw, str(path))))
        return entries

    def reset(self, key: str, *, older_than: float) -> None:
        """Drop the answers of ``key`` written before ``older_than`` (``record`` mode).

        Answers written since then, by another process recording at the same time, stay, and
        move down to the first slots so the sequence keeps no holes.
        """
        with self._locked(self.file(key, 0)):
            kept: list[Path] = []
            index = 0
            while True:
                path = self.file(key, index)
                try:
                    if path.stat().st_mtime < older_than:
                        path.unlink()
                    else:
                        kept.append(path)
                except FileNotFoundError:
                    break
                except OSError as e:
                    raise _io_error(path, "replaced", e) from None
                index += 1
            for index, path in enumerate(kept):
                target = self.file(key, index)
                if path != target:
                    try:
                        os.rename(path, target)  # under the lock: ``target`` is free
                    except OSError as e:
                        raise _io_error(target, "replaced", e) from None

    def reset_other_names(self, key: str, *, older_than: float) -> None:
        """:meth:`reset` for the files :meth:`other_names` finds."""
        if not key.isalnum():
            return
        for path in self.root.glob(f"*-{key}-*.json"):
            try:
                if path.stat().st_mtime < older_than:
                    path.unlink()
            except FileNotFoundError:
                continue
            except OSError as e:
                raise _io_error(path, "replaced", e) from None

    def entries(self) -> Iterator[tuple[str, int, str]]:
        """Every recording file as ``(key, index, path)``, sorted (:func:`json_listing.listed`)."""
        yield from sorted(listed(self.location, self._prefix))

    def _tmp_dir(self, target: Path) -> Path:
        tmp_dir = self.root / TMP_DIR
        for attempt in range(_ATTEMPTS):
            try:
                tmp_dir.mkdir(parents=True, exist_ok=True)
                return tmp_dir
            except OSError as e:  # EEXIST: there, then gone before mkdir's check (a tidy)
                if not isinstance(e, FileExistsError) or attempt == _ATTEMPTS - 1:
                    raise _io_error(target, "written", e) from None
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _locked(self, target: Path) -> Iterator[None]:
        """Serialise slot claims and resets: a thread lock, and ``flock`` on the temp directory
        for other processes (each ``open`` is its own lock, so threads exclude each other too)."""
        tmp_dir = self._tmp_dir(target)
        with self._thread_lock:
            if sys.platform == "win32":  # no flock: threads of one process are still serialised
                yield
                return
            fd = -1
            for attempt in range(_ATTEMPTS):
                try:
                    fd = os.open(tmp_dir, os.O_RDONLY)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if same_file(fd, tmp_dir):
                        break
                    # removed while we waited (tidy): a lock on it excludes no one
                    os.close(fd)
                    fd = -1
                except OSError as e:
                    if fd >= 0:
                        os.close(fd)
                        fd = -1
                    if e.errno != errno.ENOENT or attempt == _ATTEMPTS - 1:
                        raise _io_error(target, "written", e) from None
                tmp_dir = self._tmp_dir(target)
            else:
                raise _io_error(target, "written", OSError(errno.EAGAIN, "lock kept moving"))
            try:
                yield
            finally:
                os.close(fd)  # releases the lock

    def _write_temp(self, data: bytes, target: Path) -> str:
        for attempt in range(_ATTEMPTS):
            tmp_dir = self._tmp_dir(target)
            try:
                return write_temp(tmp_dir, data, target)
            except StoreError:
                # removed between its making and the write (tidy): make it again
                if attempt == _ATTEMPTS - 1 or tmp_dir.is_dir():
                    raise
        raise AssertionError("unreachable")

    def tidy(self) -> None:
        """The recording closes: remove the temp directory if it is empty, under its lock so
        that no writer holds it; another writer's temp file keeps it (rmdir fails: ignored)."""
        tmp_dir = self.root / TMP_DIR
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                tmp_dir.rmdir()
            return
        try:
            fd = os.open(tmp_dir, os.O_RDONLY)
        except OSError:
            return  # never made, or already gone
        try:
            with self._thread_lock:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if same_file(fd, tmp_dir):
                    tmp_dir.rmdir()
        except OSError:
            pass  # not empty: in use
        finally:
            os.close(fd)
