"""Writing whole msgpack store files (conversion, compaction) and encoding one recording.

The format is :mod:`apirec.stores.msgpack.frames`; the store that reads and appends is
:mod:`apirec.stores.msgpack.store`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgpack

from apirec.gate.rules import NO_RULES, Rules
from apirec.stores.gated import gated, gated_bytes
from apirec.stores.json_store import Entry, dumps, parse
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack.frames import Frame

FILE_NAME = "recordings.apirec"

# One stored recording for building a file: key, index, file name, write time, and the
# entry (a dict) or its verbatim JSON bytes.
Record = tuple[str, int, str | None, float, Entry | bytes]


def default_name(key: str, index: int) -> str:
    if key.endswith(".json"):  # a file the JSON store never looks up: its path is its key
        return key
    return f"{key}.json" if index == 0 else f"{key}.{index}.json"


def encode_entry(
    entry: Entry | bytes, rules: Rules = NO_RULES
) -> tuple[int, bytes, dict[bytes, str]]:
    """(codec, uncompressed body, long strings stored apart) for one recording, after the
    write gate (:mod:`apirec.stores.gated`): every write of this store passes here."""
    blobs: dict[bytes, str] = {}
    entry = gated_bytes(entry, rules) if isinstance(entry, bytes) else gated(entry, rules)
    if isinstance(entry, bytes):
        return fr.CODEC_JSON, entry, blobs
    try:
        packed: bytes = msgpack.packb(fr.with_blob_refs(entry, blobs), use_bin_type=True)
        return fr.CODEC_MSGPACK, packed, blobs
    except (TypeError, ValueError, OverflowError, UnicodeError):
        # lone surrogates, integers beyond 64 bits: keep the JSON text instead
        return fr.CODEC_JSON, dumps(entry), {}


def build(root: Path, records: Iterable[Record]) -> int:
    """Write a fresh store file (and index) in ``root`` holding ``records``; return the count.

    Replaces any existing file atomically: written beside it, then renamed over it.
    """
    encoded: list[tuple[str, int, str | None, float, int, bytes]] = []
    blobs: dict[bytes, str] = {}
    for key, index, name, written_at, value in records:
        codec, body, found = encode_entry(value)
        blobs.update(found)
        encoded.append((key, index, name, written_at, codec, body))
    zdict = fr.train_dictionary([e[5] for e in encoded if e[4] == fr.CODEC_MSGPACK]) or None
    generation = os.urandom(16)
    out = bytearray(fr.DATA_MAGIC + generation)
    buckets: list[dict[Any, Any]] = [{} for _ in range(fr.BUCKETS)]
    dict_offset = 0
    if zdict:
        dict_offset = len(out)
        packed_dict = fr.compress(zdict, None)
        out += fr.pack_frame(Frame(fr.DICT, "", 0, None, time.time(), 0, 0, packed_dict))
    for d, text in sorted(blobs.items()):
        chunk = fr.pack_frame(
            Frame(fr.BLOB, d, 0, None, time.time(), 0, 0, fr.compress(text.encode(), None))
        )
        buckets[fr.bucket_of(d)][d] = [len(out), len(chunk)]
        out += chunk
    for key, index, name, written_at, codec, body in encoded:
        packed = fr.compress(body, zdict)
        chunk = fr.pack_frame(
            Frame(fr.ENTRY, key, index, name, written_at, dict_offset, codec, packed)
        )
        rows = buckets[fr.bucket_of(key)].setdefault(key, [])
        rows.append([index, len(out), len(chunk), written_at, name])
        out += chunk
    root.mkdir(parents=True, exist_ok=True)
    path = root / FILE_NAME
    tmp = root / f".{FILE_NAME}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(out)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fr.write_index(str(root / f"{FILE_NAME}.idx"), generation, len(out), dict_offset, buckets)
    return len(encoded)


def load_json(raw: bytes, where: str) -> Entry | bytes:
    """A JSON store file as its entry, or as verbatim bytes when the entry's dump differs."""
    entry = parse(raw, where)
    return entry if dumps(entry) == raw else raw
