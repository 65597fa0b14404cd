"""Conversion between the JSON store and the msgpack store, both ways and lossless.

JSON -> msgpack -> JSON gives back every file byte for byte, under its own name (llama-stack's
``models-<key>-<digest>.json`` and files in subdirectories included) and with its mtime,
which ``record`` mode uses to tell this run's answers from older ones. Large bytes kept in
``blobs/`` beside JSON files (:mod:`apirec.stores.blobs`) go into the msgpack file, which
stores each long value once already, and come back out to ``blobs/``.

References to objects of a remote store (DESIGN §15) are kept as they are, in both
directions: they name content by its sha256, so the converted store needs the same objects,
and nothing is downloaded. A JSON file's reference whose object is not in ``blobs/`` could
also be a lost blob, so converting one needs the remote to be known (``remote``). With
``upload``, payloads over the threshold that the source keeps locally (``blobs/``, large
bytes, large answer bodies) are uploaded to the remote and referred to, as a recording with
``remote=`` stores them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from apirec.errors import StoreError, command
from apirec.gate.placeholders import TYPE
from apirec.stores import blobs
from apirec.stores.blob_files import BlobFiles
from apirec.stores.gated import gated, gated_bytes
from apirec.stores.json_listing import FILE_RE, TMP_DIR
from apirec.stores.json_store import Entry, dumps, parse
from apirec.stores.msgpack.store import MsgpackStore
from apirec.stores.msgpack.writer import (
    FILE_NAME,
    Record,
    build,
    default_name,
    load_json,
    sample_positions,
    shown_name,
)
from apirec.stores.remote.payloads import RemotePayloads

FORMATS = ("msgpack", "json")


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    to: str = "msgpack",
    *,
    progress: Callable[[], None] | None = None,
    remote: RemotePayloads | None = None,
    upload: bool = False,
) -> int:
    """Convert the store in directory ``src`` into a ``to`` store in ``dst``; return the count.

    ``to="msgpack"`` reads the JSON files under ``src`` (recursively) and writes
    ``dst/recordings.apirec``; ``to="json"`` writes one file per recording under ``dst``.
    Never overwrites a different existing recording. ``progress`` is called once per
    recording converted (``apirec convert``'s progress line). ``remote``: the store the
    recordings' references name (see the module docstring); ``upload``: move the payloads
    kept locally to it.
    """
    step = progress or (lambda: None)
    if upload and remote is None:
        raise ValueError("upload=True needs a remote")
    held = _Payloads(remote, upload)
    if to not in FORMATS:
        raise ValueError(f"{to!r} is not a valid store format. Valid formats are: json, msgpack")
    source, target = Path(src), Path(dst)
    if not source.is_dir():
        raise StoreError(f"{source}: no such store directory", path=str(source))
    if to == "msgpack":
        if (target / FILE_NAME).exists():
            raise StoreError(
                f"{target / FILE_NAME}: a msgpack store is already there; convert into an "
                f"empty directory",
                path=str(target / FILE_NAME),
            )
        files = _json_files(source)
        # the samples are split as the records will be, uploading nothing
        sampled = _Payloads(remote, upload, sending=False)
        samples = [_json_record(source, files[p], sampled)[4] for p in sample_positions(len(files))]
        records = (_counted(_json_record(source, p, held), step) for p in files)
        return build(target, records, samples)
    return _write_json(source, target, step, held)


def _counted(record: Record, step: Callable[[], None]) -> Record:
    step()
    return record


def _json_files(root: Path) -> list[Path]:
    return [
        path
        for path in sorted(root.rglob("*.json"))
        if TMP_DIR not in path.relative_to(root).parts and path.is_file()
    ]


class _Payloads:
    """Where the large payloads of a converted recording go: kept as they are, or (with
    ``upload``) to the remote store."""

    def __init__(self, remote: RemotePayloads | None, upload: bool, sending: bool = True):
        self.remote, self.upload, self.sending = remote, upload, sending

    def local_only(self, entry: Any, folder: Path, where: str) -> Any:
        """``entry`` with its references to ``blobs/`` files replaced by their payloads, and
        those to objects only the remote holds kept (which needs a remote: else it is a
        lost blob, said as replay says it)."""
        local = BlobFiles(folder)

        def inline(value: Any) -> Any:
            if type(value) is dict:
                if blobs.BLOB in value and TYPE in value:
                    digest = blobs.check_reference(value, where, [])[0]
                    if value[TYPE] == blobs.JSON_BODY:
                        return value  # a body kept apart is always the remote's object
                    if not local.path(digest).is_file():
                        if self.remote is None:
                            raise _no_remote(where, digest, local.path(digest))
                        return value  # the remote's object: the same reference
                    return blobs.join(value, local.fetcher(where), where)
                return {k: inline(v) for k, v in value.items()}
            if type(value) is list:
                return [inline(v) for v in value]
            return value

        try:
            return inline(entry)
        except RecursionError:
            raise StoreError(f"{where}: nested too deeply", path=where) from None

    def stored(self, entry: Entry | bytes, where: str) -> Entry | bytes:
        """``entry`` as a recording with the remote stores it, its new objects uploaded."""
        if not self.upload or isinstance(entry, bytes) or len(dumps(entry)) <= blobs.MIN_SIZE:
            return entry
        assert self.remote is not None
        # the write gate before anything leaves: an object uploaded is stored too
        stored, payloads = self.remote.split(gated(entry))
        if self.sending:
            self.remote.upload(payloads, where)
        return stored  # type: ignore[no-any-return]


def _no_remote(where: str, digest: str, blob: Path) -> StoreError:
    return StoreError(
        f"{where}: refers to the object {digest}, which is not in {blob.parent}: a blob lost "
        f"(restore it from version control), or an object of a remote store: give its URL "
        f"(--remote, ini apirec_remote or APIREC_REMOTE) and the reference is kept as it is",
        path=where,
    )


def _json_record(root: Path, path: Path, held: _Payloads) -> Record:
    """One JSON file as a record of the msgpack store, read when the writer comes to it."""
    rel = path.relative_to(root)
    name = rel.as_posix()
    m = FILE_RE.match(name) if len(rel.parts) == 1 else None
    # files the JSON store never looks up keep their path as key, so lookups miss them too
    key, index = (m["key"], int(m["index"] or 0)) if m else (name, 0)
    stored_name: str | bytes | None = None if name == default_name(key, index) else name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # not UTF-8: its bytes are its name, its escaped path its key
        key, index, stored_name = (
            "/" + name.encode("unicode_escape").decode("ascii"),
            0,
            os.fsencode(name),
        )
    try:
        raw = path.read_bytes()
        written_at = path.stat().st_mtime
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror or e}", path=str(path)) from None
    if blobs.MARKER in raw:  # the msgpack store keeps large bytes in its one file
        entry = held.local_only(parse(raw, str(path)), path.parent, str(path))
        return key, index, stored_name, written_at, held.stored(entry, str(path))
    return key, index, stored_name, written_at, held.stored(load_json(raw, str(path)), str(path))


def _write_json(source: Path, target: Path, step: Callable[[], None], held: _Payloads) -> int:
    if not (source / FILE_NAME).exists():
        raise StoreError(f"{source / FILE_NAME}: no msgpack store here", path=str(source))
    store = MsgpackStore(source)
    if store.torn is not None:  # a JSON copy without its last answer would be silently short
        store.close()
        raise StoreError(
            f"{store.path}: its last frame is cut short at byte {store.torn.offset} "
            f"({store.torn.problem}): a writer died while appending it, or is appending now; "
            f"nothing converted ({command('apirec', 'repair', source)} cuts it off, keeping a "
            "backup)",
            path=str(store.path),
        )
    count = 0
    try:
        for name, written_at, data in store.records():
            step()
            path = target / _safe(name, store.location)
            passed = gated_bytes(data)  # the write gate, as for every write
            data = data if isinstance(passed, bytes) else dumps(passed)
            data = _to_remote(data, path, held) if held.upload else _to_blobs(data, path)
            if path.exists():
                if path.read_bytes() == data:
                    count += 1
                    continue
                raise StoreError(
                    f"{path}: exists with other content; not overwritten", path=str(path)
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(data)
                os.utime(tmp, (written_at, written_at))
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            count += 1
    finally:
        store.close()
    return count


def _to_blobs(data: bytes, path: Path) -> bytes:
    """A recording's bytes as the JSON store writes them: its large bytes in ``blobs/``
    beside ``path`` (written first), references in their place. A file that is not apirec's
    canonical dump is kept verbatim, as it came."""
    if not blobs.might_hold_large_bytes(len(data)):
        return data
    entry = json.loads(data)
    if dumps(entry) != data:
        return data
    stored, payloads = blobs.split(entry)
    if not payloads:
        return data
    tmp_dir = path.parent / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    for digest, payload in payloads.items():
        BlobFiles(path.parent).put(digest, payload, tmp_dir)
    return dumps(stored)


def _to_remote(data: bytes, path: Path, held: _Payloads) -> bytes:
    """A recording's bytes as the JSON store writes them with a remote: its large payloads
    uploaded (first), references in their place; a file that is not apirec's canonical dump
    is kept verbatim."""
    if len(data) <= blobs.MIN_SIZE:
        return data
    entry = json.loads(data)
    if dumps(entry) != data:
        return data
    stored = held.stored(entry, str(path))
    return data if stored is entry or isinstance(stored, bytes) else dumps(stored)


def _safe(stored: str | bytes, where: str) -> PurePosixPath:
    """A stored file name is data: it must stay inside the target directory."""
    name = shown_name(stored)
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or not name.endswith(".json"):
        raise StoreError(f"{where}: refusing the file name {name!r}", path=where)
    return rel
