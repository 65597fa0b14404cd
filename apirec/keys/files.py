"""Files given as arguments: keyed by what they hold, not where they are (DESIGN §3).

An upload (``files.create(file=open(...))``, ``file=Path(...)``) is the same call from any
directory and a different call when the file changed: a file object or a path to a regular
file stands in keys and stored arguments for ``{"file": <base name>, "sha256": <digest>}``.
A file object is read whole (httpx uploads it from its start) and its position put back, so
the call reads it as if apirec had not looked; a position other than the start is part of the
key (a function may read from there). A path that names no regular file
(an output path, a directory) stays its text. This is the one place the keys layer reads
files: the one rule every integration and ``@record`` share.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import PurePath
from typing import Any

from apirec.errors import UnhashableArgument

_CHUNK = 1 << 20


def is_file_object(value: Any) -> bool:
    """An open file or in-memory file (``open(...)``, ``BytesIO``, ``StringIO``)."""
    return isinstance(value, io.IOBase)


def path_key(value: PurePath) -> str | dict[str, str]:
    """A path to a regular file as its base name and digest; any other path as its text."""
    try:
        if not os.path.isfile(value):
            return str(value)
        digest = hashlib.sha256()
        with open(value, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except (OSError, ValueError):  # unreadable, or a path with a NUL: keyed as written
        return str(value)
    return {"file": value.name, "sha256": digest.hexdigest()}


def file_key(value: io.IOBase, where: str) -> dict[str, str | int | None]:
    """An open file as its base name (None when it has none), the digest of its content and
    its position when not at the start; the position is restored."""
    try:
        position = value.tell()
    except (OSError, ValueError) as e:  # closed, or a pipe with no position
        raise _unreadable(value, where, e) from e
    digest = hashlib.sha256()
    try:
        value.seek(0)
        while chunk := value.read(_CHUNK):
            digest.update(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
        value.seek(position)
    except (OSError, ValueError) as e:  # not seekable: the caller's position is lost
        raise _unreadable(value, where, e) from e
    name = getattr(value, "name", None)
    base = os.path.basename(os.fsdecode(name)) if isinstance(name, str | bytes) else None
    key: dict[str, str | int | None] = {"file": base, "sha256": digest.hexdigest()}
    if position:
        key["position"] = position
    return key


def _unreadable(value: Any, where: str, error: Exception) -> UnhashableArgument:
    t = type(value)
    return UnhashableArgument(
        f"argument {where!r}: the file {getattr(value, 'name', value)!r} cannot be read for "
        f"its key and put back where it was ({error}); pass it open and seekable, or its "
        f"path, or its bytes",
        parameter=where,
        type_name=f"{t.__module__}.{t.__qualname__}",
    )
