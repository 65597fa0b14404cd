"""Where each answer and each long string of a msgpack store is: its in-memory index.

Built from the index file's buckets, each read only when a key in it is first asked for, and
from the frames appended after what the index file covers (the "tail"), which apply on top
of their bucket once it is read. Format: :mod:`apirec.stores.msgpack.frames`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from apirec.errors import StoreError
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame, Slot


class IndexView:
    """Slots per key and long strings per digest; ``index_fd`` None: no index file (every
    bucket starts empty and the frames say everything)."""

    def __init__(self, index_fd: int | None = None, table: bytes = b"", where: str = "") -> None:
        self._fd = index_fd
        self._table = table
        self._where = where
        self._loaded = (
            bytearray(fr.BUCKETS) if index_fd is not None else bytearray(b"\x01" * fr.BUCKETS)
        )
        self._pending: dict[int, list[tuple[str | bytes, int, Any]]] = {}
        self.keys: dict[str, dict[int, Slot]] = {}
        self.blobs: dict[bytes, tuple[int, int]] = {}

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def take(self, frame: Frame, offset: int, length: int) -> None:
        """Apply one scanned or appended frame (``DICT`` frames are the store's business)."""
        if frame.kind == fr.ENTRY:
            self._queue(frame.key, frame.index, Slot(offset, length, frame.written_at, frame.name))
        elif frame.kind == fr.DELETE:
            self._queue(frame.key, frame.index, None)
        elif frame.kind == fr.BLOB:
            self._queue(frame.key, 0, (offset, length))

    def slots(self, key: str) -> dict[int, Slot]:
        self.load(fr.bucket_of(key))
        return self.keys.get(key, {})

    def blob(self, digest: bytes) -> tuple[int, int] | None:
        self.load(fr.bucket_of(digest))
        return self.blobs.get(digest)

    def load(self, bucket: int) -> None:
        if self._loaded[bucket]:
            return
        assert self._fd is not None
        try:
            data = fr.read_bucket(self._fd, *fr.bucket_entry(self._table, bucket))
            for k, rows in data.items():
                if isinstance(k, bytes):
                    self.blobs[k] = (rows[0], rows[1])
                else:
                    self.keys[k] = {r[0]: Slot(r[1], r[2], r[3], r[4]) for r in rows}
        except (fr.FrameError, TypeError, ValueError, IndexError) as e:
            name = os.path.basename(self._where)
            raise StoreError(
                f"{self._where}: the index is damaged ({e}); delete {name}", path=self._where
            ) from e
        self._loaded[bucket] = 1
        for key, index, value in self._pending.pop(bucket, ()):
            self._put(key, index, value)

    def load_all(self) -> None:
        for bucket in range(fr.BUCKETS):
            self.load(bucket)

    def buckets(self) -> list[dict[Any, Any]]:
        """Everything, bucket by bucket, as the index file stores it."""
        self.load_all()
        buckets: list[dict[Any, Any]] = [{} for _ in range(fr.BUCKETS)]
        for key, slots in self.keys.items():
            if slots:
                buckets[fr.bucket_of(key)][key] = [[i, *s] for i, s in sorted(slots.items())]
        for d, (offset, length) in self.blobs.items():
            buckets[fr.bucket_of(d)][d] = [offset, length]
        return buckets

    def _queue(self, key: str | bytes, index: int, value: Any) -> None:
        bucket = fr.bucket_of(key)
        if self._loaded[bucket]:
            self._put(key, index, value)
        else:
            self._pending.setdefault(bucket, []).append((key, index, value))

    def _put(self, key: str | bytes, index: int, value: Any) -> None:
        if isinstance(key, bytes):
            self.blobs[key] = value
            return
        slots = self.keys.setdefault(key, {})
        if value is None:
            slots.pop(index, None)
        else:
            slots[index] = value
