"""Reading one stored answer of a msgpack store: its frame, its dictionary, its long strings.

The part of :class:`apirec.stores.msgpack.store.MsgpackStore` that turns a slot into an entry;
each failure is a :class:`StoreError` naming the recording and, for a bad frame, the byte.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import msgpack

from apirec.errors import StoreError
from apirec.stores import blobs
from apirec.stores.json_store import Entry, check_entry, parse
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame, Slot
from apirec.stores.msgpack.index import IndexView
from apirec.stores.msgpack.writer import default_name, shown_name
from apirec.stores.remote.payloads import RemotePayloads, missing_remote

# in a frame's body (JSON or msgpack, which packs strings as their UTF-8 bytes) when, and only
# when, it holds a reference to a payload kept in a remote store
_BLOB_KEY = blobs.BLOB.encode()


class FrameReader:
    """Decoding what the file open at ``_fd`` holds, through the index ``_view``."""

    path: Path
    location: str
    _fd: int | None
    _view: IndexView
    _dicts: dict[int, bytes | None]
    _reading: str = ""  # the recording being decoded
    remote: RemotePayloads | None = None  # remote=: where large payloads are kept

    def describe(self, key: str, index: int) -> str:
        file, name = self.place(key, index)
        return f"{file}::{name}"  # what apirec show takes

    def place(self, key: str, index: int) -> tuple[str, str]:
        """The store's file, and the recording's name in it (the JSON file it converts to)."""
        slot = self._view.keys.get(key, {}).get(index)
        name = slot.name if slot is not None and slot.name else default_name(key, index)
        return str(self.path), shown_name(name)

    def _entry(self, slot: Slot, key: str, index: int) -> Entry:
        entry, refers = self._stored_entry(slot, key, index)
        return self.resolved(entry, key, index) if refers else entry

    def _stored_entry(self, slot: Slot, key: str, index: int) -> tuple[Entry, bool]:
        """The entry in ``slot`` as stored, and whether it refers to payloads kept in a
        remote store (then :meth:`resolved` reads them back)."""
        codec, body = self._body(slot, key, index)
        where = self.describe(key, index)
        if codec == fr.CODEC_JSON:
            entry = parse(body, where)
        else:
            entry = check_entry(self._unpack(body, where), where)
        return entry, _BLOB_KEY in body

    def resolved(self, entry: Entry, key: str, index: int) -> Entry:
        """``entry`` with the payloads it keeps in a remote store read back (checked)."""
        where = self.describe(key, index)
        fetch = missing_remote(where) if self.remote is None else self.remote.fetcher(where)
        return blobs.join(entry, fetch, where)  # type: ignore[no-any-return]

    def _unpack(self, body: bytes, where: str) -> Entry:
        """msgpack of one recording, its long strings put back; ``where`` names it."""
        self._reading = where  # for a long string that is missing (``_blob``)
        try:
            entry: Entry = msgpack.unpackb(body, raw=False, ext_hook=self._blob)
            return entry
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{where}: unreadable ({type(e).__name__}: {e})", path=where) from e

    def stored(self, key: str, index: int) -> tuple[Slot, Entry | bytes]:
        """Slot ``index`` of ``key`` and its recording as stored: the entry, or the verbatim
        JSON bytes of a file that was not apirec's canonical dump (rewriting, conversion)."""
        slot = self._view.keys[key][index]
        codec, body = self._body(slot, key, index)
        if codec == fr.CODEC_JSON:
            return slot, body
        return slot, self._unpack(body, self.describe(key, index))

    def _frame(self, offset: int, length: int, where: str) -> Frame:
        assert self._fd is not None
        try:
            return fr.unpack_frame(os.pread(self._fd, length, offset))
        except fr.FrameError as e:
            raise StoreError(f"{where}: {e} at byte {offset}", path=where) from None
        except (OSError, OverflowError, ValueError) as e:  # an index's damaged offset
            raise StoreError(
                f"{where}: cannot be read at byte {offset} ({e})", path=where
            ) from None

    def _body(self, slot: Slot, key: str, index: int) -> tuple[int, bytes]:
        where = self.describe(key, index)
        frame = self._frame(slot.offset, slot.length, where)
        if frame.kind != fr.ENTRY or frame.key != key or frame.index != index:
            raise StoreError(f"{where}: the index points at the wrong frame", path=where)
        try:
            return frame.codec, fr.decompress(frame.body, self._dict(frame.dict_offset))
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{where}: cannot be decompressed ({e})", path=where) from None

    def _dict(self, offset: int) -> bytes | None:
        if offset not in self._dicts:
            assert self._fd is not None
            where = f"{self.location} (its compression dictionary)"
            try:
                head = os.pread(self._fd, fr.FRAME_HEAD.size, offset)
            except (OSError, OverflowError, ValueError) as e:  # an index's damaged offset
                raise StoreError(f"{where}: cannot be read at byte {offset} ({e})") from None
            if len(head) != fr.FRAME_HEAD.size:
                raise StoreError(f"{where}: byte {offset} is past the end of the file")
            length = fr.FRAME_HEAD.size + fr.FRAME_HEAD.unpack(head)[0]
            frame = self._frame(offset, length, where)
            if frame.kind != fr.DICT:
                raise StoreError(f"{where}: the frame at byte {offset} is not a dictionary")
            try:
                self._dicts[offset] = fr.decompress(frame.body, None)
            except zlib.error as e:
                raise StoreError(f"{where}: cannot be decompressed ({e})") from None
        return self._dicts[offset]

    def _blob(self, code: int, data: bytes) -> str:
        if code != fr.BLOB_EXT:
            raise ValueError(f"unknown msgpack extension {code}")
        loc = self._view.blob(data)
        where = self._reading
        if loc is None:
            raise StoreError(
                f"{where}: a long string it refers to (digest {data.hex()}) is not in "
                f"{self.location}",
                path=where,
            )
        frame = self._frame(*loc, f"{where} (a long string it refers to)")
        if frame.kind != fr.BLOB or frame.key != data:
            raise StoreError(f"{where}: the index points at the wrong frame for a long string")
        try:
            return fr.decompress(frame.body, None).decode("utf-8")
        except (zlib.error, UnicodeDecodeError) as e:
            raise StoreError(f"{where}: a long string it refers to is unreadable ({e})") from None
