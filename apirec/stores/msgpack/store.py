"""The compact store (DESIGN §6): all the recordings of a directory in one append-only file.

Same content as the JSON store, in ``recordings.apirec`` (format:
:mod:`apirec.stores.msgpack.frames`).
Opening reads a fixed-size index table and checks the frames written after the index, so it
takes the same time for 100 or 100,000 recordings; nothing is decompressed or parsed until a
key is asked for. Each write appends one frame under an exclusive ``flock`` (processes) and a
lock (threads), so concurrent writers lose nothing. A frame cut short by a crash is ignored,
and cut off the file by the next open. :meth:`MsgpackStore.compact` rewrites the file with
only the live recordings and a compression dictionary trained on them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack

from apirec.errors import StoreError
from apirec.gate.rules import NO_RULES, Rules
from apirec.stores.json_store import Entry, check_entry, dumps, parse
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame, Slot
from apirec.stores.msgpack.index import IndexView
from apirec.stores.msgpack.writer import FILE_NAME, Record, build, default_name, encode_entry

__all__ = ["FILE_NAME", "MsgpackStore", "build"]


class MsgpackStore:
    """One file of compressed frames plus its index; see the module docstring."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.root = Path(path)
        self.path = self.root / FILE_NAME
        self.index_path = self.root / f"{FILE_NAME}.idx"
        self.location = str(self.path)
        self._lock = threading.RLock()
        self._fd: int | None = None
        self._writable = True
        self._clear()
        self._open()

    # -- opening --------------------------------------------------------------------------

    def _clear(self) -> None:
        self._generation = b""
        self._view = IndexView()
        self._scanned_to = fr.HEADER_SIZE
        self._tail = 0
        self._dict_offset = 0
        self._dicts: dict[int, bytes | None] = {0: None}

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        except PermissionError:
            fd = os.open(self.path, os.O_RDONLY)
            self._writable = False
        except OSError as e:
            raise self._error(f"cannot be opened: {e.strerror or e}") from None
        self._attach(fd, repair=True)

    def _attach(self, fd: int, *, repair: bool) -> None:
        self._close()
        self._clear()
        self._fd = fd
        self._ino = os.fstat(fd).st_ino
        if not self._read_header():
            return
        self._load_index()
        self._scan(repair=repair)

    def _read_header(self) -> bool:
        assert self._fd is not None
        head = os.pread(self._fd, fr.HEADER_SIZE, 0)
        if len(head) < fr.HEADER_SIZE:
            return False  # empty, or its creator is writing the header right now
        if head[: len(fr.DATA_MAGIC)] != fr.DATA_MAGIC:
            raise self._error("not an apirec msgpack store (unknown header)")
        self._generation = head[len(fr.DATA_MAGIC) :]
        return True

    def _load_index(self) -> None:
        assert self._fd is not None
        try:
            index_fd = os.open(self.index_path, os.O_RDONLY)
        except OSError:
            return  # no index: the scan of the whole file rebuilds it
        try:
            head = fr.read_index_head(index_fd)
        except OSError:  # not a file we can read: as good as none
            head = None
        size = os.fstat(self._fd).st_size
        if head is None or head[0] != self._generation or head[1] > size:
            os.close(index_fd)
            return
        _, self._scanned_to, self._dict_offset, table = head
        self._view = IndexView(index_fd, table, str(self.index_path))

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self._view.close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def __del__(self) -> None:
        self._close()

    # -- the in-memory view ---------------------------------------------------------------

    def _scan(self, *, repair: bool) -> None:
        """Take in the frames appended since the last scan (by us or by other processes)."""
        if self._fd is None:
            return
        if not self._generation and not self._read_header():
            return
        size = os.fstat(self._fd).st_size
        if size <= self._scanned_to:
            return
        end = self._scanned_to
        for offset, length, frame in fr.scan(self._fd, self._scanned_to, size):
            end = offset + length
            self._tail += 1
            if frame is not None:
                self._take(frame, offset, length)
        self._scanned_to = end
        # a torn last frame, or a long tail: fix both under the lock (on open only)
        if repair and self._writable and (end < size or self._tail > fr.REINDEX_AT):
            with self._flocked():
                self._catch_up()

    def _take(self, frame: Frame, offset: int, length: int) -> None:
        if frame.kind == fr.DICT:
            self._dict_offset = offset
        else:
            self._view.take(frame, offset, length)

    def _slots(self, key: str) -> dict[int, Slot]:
        return self._view.slots(key)

    # -- the Store interface --------------------------------------------------------------

    def describe(self, key: str, index: int) -> str:
        slot = self._view.keys.get(key, {}).get(index)
        return f"{self.path}::{(slot and slot.name) or default_name(key, index)}"

    def count(self, key: str) -> int:
        with self._lock:
            self._refresh()
            slots = self._slots(key)
            n = 0
            while n in slots:
                n += 1
            return n

    def read(self, key: str, index: int) -> Entry | None:
        with self._lock:
            self._refresh()
            slot = self._slots(key).get(index)
            if slot is None:
                return None
            codec, body = self._body(slot, key, index)
            where = self.describe(key, index)
            if codec == fr.CODEC_JSON:
                return parse(body, where)
            try:
                entry = msgpack.unpackb(body, raw=False, ext_hook=self._blob)
            except StoreError:
                raise
            except Exception as e:
                raise StoreError(
                    f"{where}: unreadable ({type(e).__name__}: {e})", path=where
                ) from e
            return check_entry(entry, where)

    def write(self, key: str, entry: Entry, *, start: int = 0, rules: Rules = NO_RULES) -> int:
        """Append ``entry`` in the first free slot at or after ``start``; return the slot."""
        return self._put(key, entry, start, free=True, rules=rules)

    def replace(self, key: str, index: int, entry: Entry, *, rules: Rules = NO_RULES) -> None:
        """Store ``entry`` in slot ``index``, in place of the answer there (a later frame
        for a slot supersedes the earlier ones)."""
        self._put(key, entry, index, free=False, rules=rules)

    def _put(self, key: str, entry: Entry, start: int, *, free: bool, rules: Rules) -> int:
        codec, body, blobs = encode_entry(entry, rules)  # the write gate is in there
        with self._lock, self._flocked():
            self._catch_up()
            slots = self._slots(key)
            index = start
            while free and index in slots:
                index += 1
            new: list[Frame] = []
            for d, text in blobs.items():
                if self._view.blob(d) is None:
                    data = fr.compress(text.encode("utf-8"), None)
                    new.append(Frame(fr.BLOB, d, 0, None, time.time(), 0, 0, data))
            zdict = self._dict(self._dict_offset)
            packed = fr.compress(body, zdict)
            new.append(
                Frame(fr.ENTRY, key, index, None, time.time(), self._dict_offset, codec, packed)
            )
            self._append(new)
            return index

    def close_gap(self, key: str, index: int) -> bool:
        """Slot ``index`` of ``key`` will stay empty (its call got no answer): move every answer
        after it down one slot, keeping their order (slots between may still be empty, waiting
        for calls in flight). Returns whether any moved."""
        if self._fd is None and not self.path.exists():
            return False
        with self._lock, self._flocked():
            self._catch_up()
            slots = self._slots(key)
            if index in slots:
                return False
            moved: list[Frame] = []
            later = sorted(i for i in slots if i > index)
            for i in later:  # the same frame, filed one slot lower (empty slots in between
                slot = slots[i]  # wait for calls in flight)
                frame = self._frame(slot.offset, slot.length, self.describe(key, i))
                name = None if frame.name == default_name(key, i) else frame.name
                moved.append(dataclasses.replace(frame, index=i - 1, name=name))
            if not moved:
                return False
            now = time.time()
            vacated = sorted(set(later) - {i - 1 for i in later})
            moved += [Frame(fr.DELETE, key, i, None, now, 0, 0, b"") for i in vacated]
            self._append(moved)
            return True

    def reset(self, key: str, *, older_than: float) -> None:
        """Drop the answers of ``key`` written before ``older_than`` (``record`` mode)."""
        if self._fd is None and not self.path.exists():
            return
        with self._lock, self._flocked():
            self._catch_up()
            old = sorted(i for i, s in self._slots(key).items() if s.written_at < older_than)
            now = time.time()
            self._append([Frame(fr.DELETE, key, i, None, now, 0, 0, b"") for i in old])

    def entries(self) -> Iterator[tuple[str, int, str]]:
        """Every recording as ``(key, index, description)``, sorted."""
        with self._lock:
            self._refresh()
            self._view.load_all()
            items = sorted((k, i) for k, slots in self._view.keys.items() for i in slots)
        for key, index in items:
            yield key, index, self.describe(key, index)

    def records(self) -> Iterator[tuple[str, float, bytes]]:
        """Every recording as ``(file name, written at, exact JSON bytes)``, for conversion."""
        for key, index, _ in list(self.entries()):
            with self._lock:
                slot = self._view.keys[key][index]
                codec, body = self._body(slot, key, index)
            if codec == fr.CODEC_MSGPACK:
                body = dumps(msgpack.unpackb(body, raw=False, ext_hook=self._blob))
            yield slot.name or default_name(key, index), slot.written_at, body

    def compact(self) -> None:
        """Rewrite the file with only the live recordings and a trained dictionary."""
        with self._lock, self._flocked():
            self._catch_up()
            records: list[Record] = []
            self._view.load_all()
            keys = self._view.keys
            for key in sorted(keys):
                for index, slot in sorted(keys[key].items()):
                    codec, body = self._body(slot, key, index)
                    value: Entry | bytes = body
                    if codec == fr.CODEC_MSGPACK:
                        value = msgpack.unpackb(body, raw=False, ext_hook=self._blob)
                    records.append((key, index, slot.name, slot.written_at, value))
            build(self.root, records)
            fd = os.open(self.path, os.O_RDWR)
            self._attach(fd, repair=False)

    # -- helpers ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self._fd is None:
            if self.path.exists():
                self._open()
            return
        self._scan(repair=False)

    @contextlib.contextmanager
    def _flocked(self) -> Iterator[int]:
        """Hold the exclusive file lock on the current data file (created if missing)."""
        if not self._writable:
            raise self._error("is read-only")
        while True:
            if self._fd is None:
                try:
                    self.root.mkdir(parents=True, exist_ok=True)
                    new_fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                except OSError as e:
                    raise self._error(f"cannot be written: {e.strerror or e}") from None
                self._attach(new_fd, repair=False)
            fd = self._fd
            assert fd is not None
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(self.path).st_ino == self._ino
            except FileNotFoundError:
                same = False
            if same:
                break
            # replaced by a compaction in another process: follow it
            fcntl.flock(fd, fcntl.LOCK_UN)
            self._close()
            self._clear()
        try:
            if os.fstat(fd).st_size == 0:
                self._write_all(fd, fr.DATA_MAGIC + os.urandom(16))
                self._read_header()
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        """Under the file lock: scan new frames, cut off a torn one, reindex if needed."""
        assert self._fd is not None
        self._scan(repair=False)
        size = os.fstat(self._fd).st_size
        if size > self._scanned_to:  # only a writer that died leaves this behind
            os.ftruncate(self._fd, self._scanned_to)
        if self._tail > fr.REINDEX_AT:
            self._reindex()

    def _append(self, new: list[Frame]) -> None:
        assert self._fd is not None
        if not new:
            return
        offset = self._scanned_to
        chunks = [fr.pack_frame(f) for f in new]
        try:
            self._write_all(self._fd, b"".join(chunks), offset)
            os.fsync(self._fd)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, offset)
            raise self._error(f"cannot be written: {e.strerror or e}") from None
        for frame, chunk in zip(new, chunks, strict=True):
            self._take(frame, offset, len(chunk))
            offset += len(chunk)
            self._tail += 1
        self._scanned_to = offset
        if self._tail > fr.REINDEX_AT:
            self._reindex()

    def _reindex(self) -> None:
        buckets = self._view.buckets()
        path = str(self.index_path)
        try:
            fr.write_index(path, self._generation, self._scanned_to, self._dict_offset, buckets)
        except OSError:
            # The index only saves time: without it the next open scans the frames instead.
            with contextlib.suppress(OSError):
                os.unlink(f"{path}.{os.getpid()}.tmp")
            return
        self._tail = 0

    @staticmethod
    def _write_all(fd: int, data: bytes, offset: int = 0) -> None:
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, offset)
            view, offset = view[n:], offset + n

    def _frame(self, offset: int, length: int, where: str) -> Frame:
        assert self._fd is not None
        try:
            return fr.unpack_frame(os.pread(self._fd, length, offset))
        except fr.FrameError as e:
            raise StoreError(f"{where}: {e} at byte {offset}", path=where) from None

    def _body(self, slot: Slot, key: str, index: int) -> tuple[int, bytes]:
        where = self.describe(key, index)
        frame = self._frame(slot.offset, slot.length, where)
        if frame.kind != fr.ENTRY or frame.key != key:
            raise StoreError(f"{where}: the index points at the wrong frame", path=where)
        try:
            return frame.codec, fr.decompress(frame.body, self._dict(frame.dict_offset))
        except Exception as e:
            raise StoreError(f"{where}: cannot be decompressed ({e})", path=where) from None

    def _dict(self, offset: int) -> bytes | None:
        if offset not in self._dicts:
            assert self._fd is not None
            head = os.pread(self._fd, fr.FRAME_HEAD.size, offset)
            length = fr.FRAME_HEAD.size + fr.FRAME_HEAD.unpack(head)[0]
            body = self._frame(offset, length, self.location).body
            self._dicts[offset] = fr.decompress(body, None)
        return self._dicts[offset]

    def _blob(self, code: int, data: bytes) -> str:
        if code != fr.BLOB_EXT:
            raise ValueError(f"unknown msgpack extension {code}")
        loc = self._view.blob(data)
        if loc is None:
            raise StoreError(f"{self.location}: a long string it refers to is missing")
        text = fr.decompress(self._frame(*loc, self.location).body, None)
        return text.decode("utf-8")

    def _error(self, problem: str) -> StoreError:
        return StoreError(f"{self.path}: {problem}", path=str(self.path))
