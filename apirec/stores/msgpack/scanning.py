"""Walking the frames of a msgpack store file, and telling damage from a torn tail.

A frame that cannot be read is one of two things. A *torn tail*: the file ends inside its last
frame (its head is cut short, or its declared length runs past the end of the file and the
bytes there are the start of a frame apirec could have written) and no readable frame
follows. A writer that died half way through its append leaves this, and so does a writer
appending right now, so a reader only stops before it; a writer, holding the file lock, cuts
it off. Anything else is *damage* (a flipped bit, an overwritten range, garbage appended):
never cut, never read past silently. A whole last frame with a bad checksum is damage (its
writer wrote every byte), and so is ``hello world`` appended (read as a 1.75 GB length,
followed by bytes no writer puts there).
Format: :mod:`apirec.stores.msgpack.frames`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import msgpack

from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame

# Every payload is msgpack of an 8-item array (0x98) whose first item is the kind (1 to 4):
# looking for a readable frame after damage tries only the offsets where these two bytes are.
_ARRAY_OF_8 = b"\x98"
_KINDS = {fr.ENTRY: "an answer", fr.DELETE: "a deletion", fr.BLOB: "a long string"}
_CHUNK = 1 << 20
_KINDS_ALL = (fr.ENTRY, fr.DELETE, fr.BLOB, fr.DICT)


@dataclass(frozen=True, slots=True)
class Damage:
    """Bytes ``offset`` to ``end`` of the file hold no readable frame; ``problem`` says why."""

    offset: int
    end: int
    problem: str

    def __str__(self) -> str:
        return f"bytes {self.offset}-{self.end} ({self.end - self.offset:,} bytes): {self.problem}"


class Scan:
    """The readable frames of the file open at ``fd`` from ``start`` to ``end``.

    Iterating yields ``(offset, length, frame)``; afterwards ``damage`` lists the unreadable
    ranges read past, ``torn`` is the torn tail if the file ends in one, and ``stop`` is where
    the next scan starts (the torn tail's offset: its writer may still be appending).
    """

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd, self.start, self.end = fd, start, end
        self.damage: list[Damage] = []
        self.torn: Damage | None = None
        self.stop = start

    def __iter__(self) -> Iterator[tuple[int, int, Frame]]:
        offset = self.start
        while offset < self.end:
            length, frame, problem, torn = read_at(self.fd, offset, self.end)
            if frame is not None:
                yield offset, length, frame
                offset = self.stop = offset + length
                continue
            following = next_frame(self.fd, offset + 1, self.end)
            if following is None and torn:
                self.torn = Damage(offset, self.end, problem)
                return
            bad = Damage(offset, self.end if following is None else following, problem)
            self.damage.append(bad)
            offset = self.stop = bad.end


def read_at(fd: int, offset: int, end: int) -> tuple[int, Frame | None, str, bool]:
    """(length, frame or None, why not, whether it can be one frame torn by its writer)."""
    if end - offset < fr.FRAME_HEAD.size:
        return 0, None, "a frame cut short in its header", True
    head = os.pread(fd, fr.FRAME_HEAD.size, offset)
    declared = fr.FRAME_HEAD.unpack(head)[0]
    total = fr.FRAME_HEAD.size + declared
    if declared > fr.MAX_FRAME:
        return 0, None, f"not a frame (its declared length, {declared:,} bytes, is absurd)", False
    if offset + total > end:
        prefix = os.pread(fd, min(end - offset - fr.FRAME_HEAD.size, 4096), offset + 8)
        if not torn_prefix(prefix, declared):
            return 0, None, "not a frame (its bytes are not the start of one)", False
        return 0, None, f"its declared length ({declared:,} bytes) runs past the end", True
    try:
        frame = fr.unpack_frame(head + os.pread(fd, declared, offset + fr.FRAME_HEAD.size))
    except fr.FrameError as e:
        # Whole and ending at the end of the file, or not: its writer wrote all of it, so a
        # bad checksum is damage, never a torn write.
        return total, None, str(e), False
    return total, frame, "", False


def torn_prefix(raw: bytes, declared: int) -> bool:
    """Whether ``raw`` can be the start of a frame payload of ``declared`` bytes, cut short
    by its writer: msgpack of 8 fields, the first a kind, the last a body that ends exactly
    at ``declared``. Bytes apirec cannot have written there are damage, not a torn tail."""
    if not raw:
        return True
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(raw)
    try:
        if unpacker.read_array_header() != 8 or unpacker.unpack() not in _KINDS_ALL:
            return False
        for _ in range(6):  # key, index, name, written_at, dict_offset, codec
            unpacker.unpack()
    except msgpack.OutOfData:
        return True  # consistent as far as the bytes go
    except Exception:  # whatever the bytes make of msgpack: not what a writer wrote
        return False
    pos: int = unpacker.tell()
    sizes = {0xC4: (1, ">B"), 0xC5: (2, ">H"), 0xC6: (4, ">I")}
    if pos >= len(raw):
        return True
    if raw[pos] not in sizes:
        return False
    n, fmt = sizes[raw[pos]]
    if pos + 1 + n > len(raw):
        return True
    body: int = struct.unpack_from(fmt, raw, pos + 1)[0]
    return pos + 1 + n + body == declared


def next_frame(fd: int, start: int, end: int) -> int | None:
    """The offset of the first readable frame at or after ``start``, or None."""
    pos = start
    while pos + fr.FRAME_HEAD.size < end:
        n = min(_CHUNK, end - pos - fr.FRAME_HEAD.size)
        buf = os.pread(fd, n + 1, pos + fr.FRAME_HEAD.size)  # byte j: payload start of pos + j
        j = buf.find(_ARRAY_OF_8, 0, n)
        while j != -1:
            kind_ok = j + 1 < len(buf) and 1 <= buf[j + 1] <= fr.DICT
            if kind_ok and read_at(fd, pos + j, end)[1] is not None:
                return pos + j
            j = buf.find(_ARRAY_OF_8, j + 1, n)
        pos += n
    return None


def held(fd: int, damage: Damage) -> str | None:
    """What the unreadable frame at ``damage.offset`` seems to have held, read from its bytes
    without their checksum ("an answer of key 'k' slot 2"), or None when they do not say."""
    start = damage.offset + fr.FRAME_HEAD.size
    raw = os.pread(fd, min(damage.end - start, 4096), start) if damage.end > start else b""
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(raw)
    try:
        if unpacker.read_array_header() != 8:
            return None
        kind, key, index = unpacker.unpack(), unpacker.unpack(), unpacker.unpack()
    except Exception:  # whatever the damaged bytes make of msgpack
        return None
    if kind == fr.DICT:
        return "the compression dictionary"
    if kind not in _KINDS or not isinstance(index, int):
        return None
    if isinstance(key, bytes):
        return f"{_KINDS[kind]} ({key.hex()[:12]}…)"
    return f"{_KINDS[kind]} of key {key!r} slot {index}" if isinstance(key, str) else None
