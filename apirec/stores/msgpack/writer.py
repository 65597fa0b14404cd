"""Writing whole msgpack store files (conversion, compaction) and encoding one recording.

The format is :mod:`apirec.stores.msgpack.frames`; the store that reads and appends is
:mod:`apirec.stores.msgpack.store`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgpack

from apirec.gate.rules import NO_RULES, Rules
from apirec.stores.blobs import MIN_SIZE
from apirec.stores.gated import gated, gated_bytes
from apirec.stores.json_store import Entry, dumps, parse
from apirec.stores.msgpack import FILE_NAME as FILE_NAME  # its importers name it here too
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame
from apirec.stores.remote.payloads import RemotePayloads

# One stored recording for building a file: key, index, file name (bytes when it is not
# UTF-8), write time, and the entry (a dict) or its verbatim JSON bytes.
Record = tuple[str, int, str | bytes | None, float, Entry | bytes]


def default_name(key: str, index: int) -> str:
    if key.endswith(".json"):  # a file the JSON store never looks up: its path is its key
        return key
    return f"{key}.json" if index == 0 else f"{key}.{index}.json"


def encode_entry(
    entry: Entry | bytes,
    rules: Rules = NO_RULES,
    remote: RemotePayloads | None = None,
    where: str = "",
) -> tuple[int, bytes, dict[bytes, str]]:
    """(codec, uncompressed body, long strings stored apart) for one recording, after the
    write gate (:mod:`apirec.stores.gated`): every write of this store passes here. With a
    ``remote``, its large payloads are uploaded first and referred to (``where``: the
    recording, for errors)."""
    blobs: dict[bytes, str] = {}
    entry = gated_bytes(entry, rules) if isinstance(entry, bytes) else gated(entry, rules)
    if isinstance(entry, bytes):
        return fr.CODEC_JSON, entry, blobs
    value: Entry = entry
    if remote is not None and len(dumps(value)) > MIN_SIZE:
        value, payloads = remote.split(value)
        remote.upload(payloads, where)
    try:
        packed: bytes = msgpack.packb(fr.with_blob_refs(value, blobs), use_bin_type=True)
        return fr.CODEC_MSGPACK, packed, blobs
    except (TypeError, ValueError, OverflowError, UnicodeError):
        # lone surrogates, integers beyond 64 bits: keep the JSON text instead
        return fr.CODEC_JSON, dumps(value), {}


def sample_positions(count: int) -> range:
    """Which of ``count`` recordings train the compression dictionary: a few, spread evenly."""
    return range(0, count, max(1, count * fr.DICT_PIECE // fr.DICT_SIZE))


def build(
    root: Path, records: Iterable[Record], samples: Iterable[Entry | bytes] | None = None
) -> int:
    """Write a fresh store file (and index) in ``root`` holding ``records``; return the count.

    ``samples``: the recordings (picked by :func:`sample_positions`) to train the dictionary
    on. Given, ``records`` are streamed, each encoded, written and let go in turn, so memory
    stays bounded whatever the store's size; left out, ``records`` are held to pick them.
    Replaces any existing file atomically: written beside it, then renamed over it.
    """
    if samples is None:
        records = list(records)
        samples = [records[p][4] for p in sample_positions(len(records))]
    bodies = [body for codec, body, _ in map(encode_entry, samples) if codec == fr.CODEC_MSGPACK]
    zdict = fr.train_dictionary(bodies) or None
    generation = os.urandom(16)
    root.mkdir(parents=True, exist_ok=True)
    path = root / FILE_NAME
    tmp = root / f".{FILE_NAME}.{os.getpid()}.tmp"
    buckets: list[dict[Any, Any]] = [{} for _ in range(fr.BUCKETS)]
    dict_offset = count = 0
    try:
        with open(tmp, "wb") as f:
            f.write(fr.DATA_MAGIC + generation)

            def put(frame: Frame) -> tuple[int, int]:
                chunk, offset = fr.pack_frame(frame), f.tell()
                f.write(chunk)
                return offset, len(chunk)

            if zdict:
                dict_offset = put(
                    Frame(fr.DICT, "", 0, None, time.time(), 0, 0, fr.compress(zdict, None))
                )[0]
            for key, index, name, written_at, value in records:
                codec, body, found = encode_entry(value)
                for d, text in found.items():
                    if d not in buckets[fr.bucket_of(d)]:
                        packed_text = fr.compress(text.encode(), None)
                        blob = Frame(fr.BLOB, d, 0, None, time.time(), 0, 0, packed_text)
                        buckets[fr.bucket_of(d)][d] = list(put(blob))
                packed = fr.compress(body, zdict)
                where = put(
                    Frame(fr.ENTRY, key, index, name, written_at, dict_offset, codec, packed)
                )
                rows = buckets[fr.bucket_of(key)].setdefault(key, [])
                rows.append([index, *where, written_at, name])
                count += 1
            size = f.tell()
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fr.write_index(str(root / f"{FILE_NAME}.idx"), generation, size, dict_offset, buckets)
    return count


def shown_name(name: str | bytes) -> str:
    """A stored file name for messages (bytes: a name that is not UTF-8, as the OS gives it)."""
    return os.fsdecode(name) if isinstance(name, bytes) else name


def load_json(raw: bytes, where: str) -> Entry | bytes:
    """A JSON store file as its entry, or as verbatim bytes when the entry's dump differs."""
    entry = parse(raw, where)
    return entry if dumps(entry) == raw else raw
