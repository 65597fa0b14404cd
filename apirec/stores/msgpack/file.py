"""The msgpack store's data file: opening it, scanning new frames, locking, appending.

The part of :class:`apirec.stores.msgpack.store.MsgpackStore` that owns the file descriptor.
Reading never changes the file. A frame cut short by a writer that died is left alone by
readers and cut off, with a warning, by the next writer (under the file lock, so no writer
is running); any other unreadable bytes are damage (:mod:`apirec.stores.msgpack.scanning`):
every read and write then fails with a :class:`StoreError` naming the file and the byte.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from apirec.errors import StoreError, command
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack import scanning
from apirec.stores.msgpack.frames import Frame, Slot
from apirec.stores.msgpack.index import IndexView
from apirec.stores.msgpack.reading import FrameReader
from apirec.stores.msgpack.scanning import Damage, Scan
from apirec.stores.msgpack.session_index import note_written
from apirec.stores.msgpack.writer import FILE_NAME
from apirec.stores.remote.payloads import RemotePayloads


class StoreFile(FrameReader):
    """The data file and its in-memory index; ``salvage``: see :class:`MsgpackStore`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        salvage: bool = False,
        remote: RemotePayloads | None = None,
    ) -> None:
        self.root = Path(path)
        self.remote = remote
        self.path = self.root / FILE_NAME
        self.index_path = self.root / f"{FILE_NAME}.idx"
        self.location = str(self.path)
        self._lock = threading.RLock()
        self._fd: int | None = None
        self._writable = True
        self._salvage = salvage
        self._clear()
        self._open()

    # -- opening --------------------------------------------------------------------------

    def _clear(self) -> None:
        self._generation = b""
        self._view = IndexView()
        self._scanned_to = fr.HEADER_SIZE
        self._tail = 0
        self._dict_offset = 0
        self._dicts = {0: None}
        self.damage: list[Damage] = []
        self.torn: Damage | None = None

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
        self._attach(fd)

    def _attach(self, fd: int) -> None:
        self._close()
        self._clear()
        self._fd = fd
        self._pid = os.getpid()
        self._ino = os.fstat(fd).st_ino
        if not self._read_header():
            return
        short = self._load_index()
        self._scan()
        if short is not None:
            self.damage.append(short)

    def _read_header(self) -> bool:
        assert self._fd is not None
        head = os.pread(self._fd, fr.HEADER_SIZE, 0)
        if len(head) < fr.HEADER_SIZE:
            return False  # empty, or its creator is writing the header right now
        if head[: len(fr.DATA_MAGIC)] != fr.DATA_MAGIC:
            raise self._error(
                f"not an apirec msgpack store (byte 0 is not its header, {fr.DATA_MAGIC!r})"
            )
        self._generation = head[len(fr.DATA_MAGIC) :]
        return True

    def _load_index(self) -> Damage | None:
        """Use the index file if it describes this file (not in ``salvage``, which reads every
        frame). Returns the missing range when the file is shorter than its index says: frames
        the index lists are gone, which only a cut (or an older copy of the file, or a damaged
        index) explains, so it is damage, never a silent miss."""
        assert self._fd is not None
        try:
            index_fd = os.open(self.index_path, os.O_RDONLY)
        except OSError:
            return None  # no index: the scan of the whole file rebuilds it
        try:
            head = fr.read_index_head(index_fd)
        except OSError:  # not a file we can read: as good as none
            head = None
        size = os.fstat(self._fd).st_size
        if head is None or head[0] != self._generation:
            os.close(index_fd)
            return None
        if head[1] > size or self._salvage:
            os.close(index_fd)
            if head[1] <= size:
                return None
            return Damage(
                size,
                head[1],
                f"the file ends at byte {size:,} but its index ({self.index_path.name}) lists "
                f"frames up to byte {head[1]:,}: the file was cut short (or is an older copy, "
                f"or the index is damaged)",
            )
        _, self._scanned_to, self._dict_offset, table = head
        self._view = IndexView(index_fd, table, str(self.index_path))
        return None

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

    def _scan(self) -> None:
        """Take in the frames appended since the last scan (by us or by other processes);
        note damage and a torn tail. Changes nothing in the file."""
        if self._fd is None:
            return
        if not self._generation and not self._read_header():
            return
        size = os.fstat(self._fd).st_size
        if size <= self._scanned_to:
            self.torn = None
            return
        scan = Scan(self._fd, self._scanned_to, size)
        for offset, length, frame in scan:
            self._tail += 1
            self._take(frame, offset, length)
        self.damage += scan.damage
        self.torn = scan.torn
        self._scanned_to = scan.stop

    def _take(self, frame: Frame, offset: int, length: int) -> None:
        if frame.kind == fr.DICT:
            self._dict_offset = offset
        else:
            self._view.take(frame, offset, length)

    def _slots(self, key: str) -> dict[int, Slot]:
        return self._view.slots(key)

    def held(self, damage: Damage) -> str | None:
        """What the unreadable frame at ``damage`` seems to have held, or None."""
        return None if self._fd is None else scanning.held(self._fd, damage)

    def _check(self) -> None:
        """Damage fails everything: the unreadable frame may have held any key's answer,
        a later answer in place of one still readable, or a deletion."""
        if self.damage and not self._salvage:
            first, more = self.damage[0], len(self.damage) - 1
            also = f" (and {more} more damaged range{'s' * (more > 1)})" if more else ""
            raise self._error(
                f"damaged at byte {first.offset}: {first}{also}; nothing is read from it or "
                f"written to it until it is repaired ({command('apirec', 'verify', self.root)} "
                f"lists the damage; {command('apirec', 'repair', self.root)} drops it and "
                "keeps a backup)"
            )

    # -- helpers ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self._fd is None:
            if self.path.exists():
                self._open()
            self._check()
            return
        self._scan()
        self._check()

    @contextlib.contextmanager
    def _flocked(self) -> Iterator[int]:
        """Hold the exclusive file lock on the current data file (created if missing)."""
        if not self._writable:
            raise self._error("is read-only")
        while True:
            if self._fd is not None and self._pid != os.getpid():
                # A forked child shares its parent's open file, and flock belongs to the open
                # file: the two would not exclude each other. The child opens its own.
                self._close()
                self._clear()
            if self._fd is None:
                try:
                    self.root.mkdir(parents=True, exist_ok=True)
                    # 0666 less the umask, as the JSON store's files
                    new_fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
                except OSError as e:
                    raise self._error(f"cannot be written: {e.strerror or e}") from None
                self._attach(new_fd)
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
            if self._fd == fd:  # else a rewrite closed it, which let the lock go
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        """Under the file lock, before appending: scan new frames, refuse a damaged file,
        cut off a torn last frame (no writer is running: its writer died), reindex."""
        assert self._fd is not None
        if self._salvage:
            raise self._error("is open to be salvaged: nothing is appended")
        self._scan()
        self._check()
        if self.torn is not None:
            what = self.held(self.torn) or "a frame it cannot name"
            warnings.warn(
                f"{self.path}: cut {self.torn.end - self.torn.offset:,} bytes at byte "
                f"{self.torn.offset}: the last frame, which its writer died before finishing "
                f"({self.torn.problem}); it held {what}",
                stacklevel=4,
            )
            os.ftruncate(self._fd, self.torn.offset)
            self.torn = None
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
        elif self._tail:
            note_written(self.root, type(self))  # indexed as the session ends

    def update_index(self) -> None:
        """Rewrite the index if frames lie past it (see :mod:`.session_index`), under the
        file lock, after taking in what other writers appended. Changes nothing in the data
        file: a torn tail stays for the next writer to cut, and the index stops before it."""
        if self._fd is None or self._salvage or not self._writable:
            return
        with self._lock, self._flocked():
            self._scan()
            self._check()
            if self._tail:
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

    def _error(self, problem: str) -> StoreError:
        return StoreError(f"{self.path}: {problem}", path=str(self.path))
