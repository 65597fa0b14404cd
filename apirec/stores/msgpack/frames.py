"""The msgpack store's file format: checksummed, compressed frames and a bucketed index.

Data file (``recordings.apirec``): ``DATA_MAGIC`` + 16 random bytes (the generation, new for
every rewrite), then frames appended one after another. A frame is ``>II`` (payload length,
CRC-32 of the payload) followed by the payload, msgpack of
``[kind, key, index, name, written_at, dict_offset, codec, body]``:

* ``ENTRY``: one recording; ``body`` is zlib (or raw deflate with the store's preset
  dictionary at ``dict_offset``, 0 for none) of msgpack of the entry, or of its JSON text
  (``CODEC_JSON``: values msgpack cannot carry, or a file whose bytes are not apirec's
  canonical dump). Strings of ``BLOB_MIN`` characters or more are stored once per store as
  ``BLOB`` frames and referred to by an ext value holding their xxh3_128 digest (a base64
  image sent in many requests).
* ``DELETE``: the slot ``(key, index)`` is gone. ``DICT``: a zlib preset dictionary
  (itself zlib-compressed).

Index file (``recordings.apirec.idx``): ``INDEX_MAGIC``, the generation it describes, the data
size it covers, the current dictionary, then a table of ``BUCKETS`` (offset, length) pairs;
each bucket is zlib of msgpack of ``{key: [[index, offset, length, written_at, name], ...],
digest: [offset, length]}``. A lookup reads the fixed-size table once and one bucket, so
opening does not grow with the number of recordings. Frames after the covered size (the
"tail") are scanned on open (:mod:`apirec.stores.msgpack.scanning`); a writer rewrites the
index once the tail grows past ``REINDEX_AT``, and as its session ends
(:mod:`apirec.stores.msgpack.session_index`).
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgpack
import xxhash

DATA_MAGIC = b"APIRECM1"
INDEX_MAGIC = b"APIRECI1"
HEADER_SIZE = len(DATA_MAGIC) + 16
FRAME_HEAD = struct.Struct(">II")
INDEX_HEAD = struct.Struct(">8s16sQQI")
BUCKET = struct.Struct(">QI")
BUCKETS = 256
REINDEX_AT = 256
MAX_FRAME = 1 << 31
DICT_SIZE, DICT_PIECE = 32768, 4096  # the preset dictionary, and how much of each sample

ENTRY, DELETE, BLOB, DICT = 1, 2, 3, 4
CODEC_MSGPACK, CODEC_JSON = 0, 1
BLOB_MIN = 4096
BLOB_EXT = 1


class Slot(NamedTuple):
    """Where one stored answer is: its frame, when it was written and its file name."""

    offset: int
    length: int
    written_at: float
    name: str | bytes | None  # bytes: a file name that is not UTF-8


@dataclass(frozen=True, slots=True)
class Frame:
    kind: int
    key: str | bytes
    index: int
    name: str | bytes | None
    written_at: float
    dict_offset: int
    codec: int
    body: bytes


class FrameError(ValueError):
    """A frame that cannot be read; the message says what is wrong."""


def bucket_of(key: str | bytes) -> int:
    if isinstance(key, bytes):
        return key[0] % BUCKETS
    return xxhash.xxh32_intdigest(key.encode("utf-8")) % BUCKETS


def pack_frame(frame: Frame) -> bytes:
    payload: bytes = msgpack.packb(
        [
            frame.kind,
            frame.key,
            frame.index,
            frame.name,
            frame.written_at,
            frame.dict_offset,
            frame.codec,
            frame.body,
        ],
        use_bin_type=True,
    )
    return FRAME_HEAD.pack(len(payload), zlib.crc32(payload)) + payload


def unpack_frame(raw: bytes) -> Frame:
    """``raw`` is a whole frame, head included."""
    if len(raw) < FRAME_HEAD.size:
        raise FrameError("frame cut short")
    length, crc = FRAME_HEAD.unpack_from(raw)
    payload = raw[FRAME_HEAD.size :]
    if len(payload) != length:
        raise FrameError("frame cut short")
    if zlib.crc32(payload) != crc:
        raise FrameError("checksum mismatch: its bytes changed after they were written")
    try:
        fields = msgpack.unpackb(payload, raw=False)
    except Exception as e:
        raise FrameError(f"its checksum matches but its bytes are not msgpack ({e})") from None
    if not isinstance(fields, list) or len(fields) != 8:
        raise FrameError("its checksum matches but it does not hold the 8 fields of a frame")
    kind, key, index, name, written_at, dict_offset, codec, body = fields
    return Frame(kind, key, index, name, written_at, dict_offset, codec, body)


def compress(data: bytes, zdict: bytes | None) -> bytes:
    """zlib, or raw deflate with a preset dictionary (3x quicker to open than zlib's own)."""
    if zdict is None:
        return zlib.compress(data, 9)
    c = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=zdict)
    return c.compress(data) + c.flush()


def decompress(data: bytes, zdict: bytes | None) -> bytes:
    if zdict is None:
        return zlib.decompress(data)
    d = zlib.decompressobj(-15, zdict=zdict)
    out = d.decompress(data) + d.flush()
    if not d.eof:
        raise zlib.error("compressed data cut short")
    return out


def train_dictionary(samples: list[bytes]) -> bytes:
    """A preset dictionary: the first bytes of recordings spread evenly over the store."""
    if not samples:
        return b""
    picked = samples[:: max(1, len(samples) * DICT_PIECE // DICT_SIZE)]
    return b"".join(s[:DICT_PIECE] for s in picked)[-DICT_SIZE:]


def digest(text: str) -> bytes:
    return xxhash.xxh3_128_digest(text.encode("utf-8"))


def with_blob_refs(value: Any, blobs: dict[bytes, str]) -> Any:
    """``value`` with long strings replaced by references; ``blobs`` collects them."""
    t = type(value)
    if t is str:
        if len(value) >= BLOB_MIN:
            d = digest(value)
            blobs[d] = value
            return msgpack.ExtType(BLOB_EXT, d)
        return value
    if t is dict:
        return {k: with_blob_refs(v, blobs) for k, v in value.items()}
    if t is list:
        return [with_blob_refs(v, blobs) for v in value]
    return value


def write_index(
    path: str, generation: bytes, covered: int, dict_offset: int, buckets: list[dict[Any, Any]]
) -> None:
    """Write the index atomically (temporary file, then rename)."""
    blobs = [zlib.compress(msgpack.packb(b, use_bin_type=True)) if b else b"" for b in buckets]
    table_size = BUCKETS * BUCKET.size
    offset = INDEX_HEAD.size + table_size
    table = bytearray()
    for blob in blobs:
        table += BUCKET.pack(offset, len(blob))
        offset += len(blob)
    data = INDEX_HEAD.pack(INDEX_MAGIC, generation, covered, dict_offset, BUCKETS)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data + bytes(table) + b"".join(blobs))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_index_head(fd: int) -> tuple[bytes, int, int, bytes] | None:
    """(generation, covered size, dictionary offset, raw bucket table), or None when it is not
    an index of this format (an index cut short, or of another version: as good as none).

    The table stays raw: a lookup unpacks only the one entry it needs (:func:`bucket_entry`).
    """
    size = INDEX_HEAD.size + BUCKETS * BUCKET.size
    head = os.pread(fd, size, 0)
    if len(head) != size:
        return None
    magic, generation, covered, dict_offset, n = INDEX_HEAD.unpack_from(head)
    if magic != INDEX_MAGIC or n != BUCKETS:
        return None
    return generation, covered, dict_offset, head[INDEX_HEAD.size :]


def bucket_entry(table: bytes, bucket: int) -> tuple[int, int]:
    """(offset, length) of ``bucket`` in the index file."""
    offset, length = BUCKET.unpack_from(table, bucket * BUCKET.size)
    return offset, length


def read_bucket(fd: int, offset: int, length: int) -> dict[Any, Any]:
    """One bucket, read from the index file open at ``fd`` (a consistent snapshot)."""
    if not length:
        return {}
    try:
        raw = os.pread(fd, length, offset)
    except (OSError, OverflowError, ValueError) as e:  # a damaged offset or length
        raise FrameError(f"a bucket at byte {offset:,} cannot be read ({e})") from None
    if len(raw) != length:
        raise FrameError(f"a bucket at byte {offset:,} runs past the end of the index")
    try:
        data = zlib.decompress(raw)
    except zlib.error as e:
        raise FrameError(f"a bucket at byte {offset:,} cannot be decompressed ({e})") from None
    try:
        bucket = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as e:
        raise FrameError(f"a bucket at byte {offset:,} is not msgpack ({e})") from None
    if not isinstance(bucket, dict):
        raise FrameError("index bucket is not a map")
    return bucket
