"""Reading one stored answer of a msgpack store: its frame, its dictionary, its long strings.

The part of :class:`apirec.stores.msgpack.store.MsgpackStore` that turns a slot into an entry;
each failure is a :class:`StoreError` naming the recording and, for a bad frame, the byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgpack

from apirec.errors import StoreError
from apirec.stores.json_store import Entry, check_entry, parse
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame, Slot
from apirec.stores.msgpack.index import IndexView
from apirec.stores.msgpack.writer import default_name, shown_name


class FrameReader:
    """Decoding what the file open at ``_fd`` holds, through the index ``_view``."""

    path: Path
    location: str
    _fd: int | None
    _view: IndexView
    _dicts: dict[int, bytes | None]

    def describe(self, key: str, index: int) -> str:
        slot = self._view.keys.get(key, {}).get(index)
        name = slot.name if slot is not None and slot.name else default_name(key, index)
        return f"{self.path}::{shown_name(name)}"

    def _entry(self, slot: Slot, key: str, index: int) -> Entry:
        codec, body = self._body(slot, key, index)
        where = self.describe(key, index)
        if codec == fr.CODEC_JSON:
            return parse(body, where)
        try:
            entry = msgpack.unpackb(body, raw=False, ext_hook=self._blob)
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{where}: unreadable ({type(e).__name__}: {e})", path=where) from e
        return check_entry(entry, where)

    def stored(self, key: str, index: int) -> tuple[Slot, Entry | bytes]:
        """Slot ``index`` of ``key`` and its recording as stored: the entry, or the verbatim
        JSON bytes of a file that was not apirec's canonical dump (rewriting, conversion)."""
        slot = self._view.keys[key][index]
        codec, body = self._body(slot, key, index)
        if codec == fr.CODEC_JSON:
            return slot, body
        try:
            return slot, msgpack.unpackb(body, raw=False, ext_hook=self._blob)
        except StoreError:
            raise
        except Exception as e:
            where = self.describe(key, index)
            raise StoreError(f"{where}: unreadable ({type(e).__name__}: {e})", path=where) from e

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
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{where}: cannot be decompressed ({e})", path=where) from None

    def _dict(self, offset: int) -> bytes | None:
        if offset not in self._dicts:
            assert self._fd is not None
            head = os.pread(self._fd, fr.FRAME_HEAD.size, offset)
            length = fr.FRAME_HEAD.size + fr.FRAME_HEAD.unpack(head)[0]
            body = self._frame(offset, length, f"{self.location} (its dictionary)").body
            self._dicts[offset] = fr.decompress(body, None)
        return self._dicts[offset]

    def _blob(self, code: int, data: bytes) -> str:
        if code != fr.BLOB_EXT:
            raise ValueError(f"unknown msgpack extension {code}")
        loc = self._view.blob(data)
        if loc is None:
            raise StoreError(f"{self.location}: a long string it refers to is missing")
        text = fr.decompress(self._frame(*loc, f"{self.location} (a long string)").body, None)
        return text.decode("utf-8")
