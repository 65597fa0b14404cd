"""Files given as arguments: keyed by what they hold, not where they are (DESIGN §3).

An upload (``files.create(file=open(...))``, ``file=Path(...)``) is the same call from any
directory and a different call when the file changed: a file object or a path to a regular
file stands in keys and stored arguments for ``{"file": <base name>, "sha256": <digest>}``.
A file object is read whole (httpx uploads it from its start) and its position put back, so
the call reads it as if apirec had not looked; a position other than the start is part of the
key (a function may read from there). A path that names nothing yet (an output path the call
will write, often under a temporary directory) is ``{"file": <base name>, "absent": True}``, so
the same test replays from another directory; any other path (a directory) stays its text.
A path keyed so was keyed otherwise when recorded when the recorded call itself wrote its file
(absent then, there now) or when earlier apirec versions kept it as its text: the replay
that misses looks again as recorded then (:func:`as_recorded`, :func:`paths_keyed_as_files`),
so neither changes the key. This is the one place the keys layer reads files: the one rule
every integration and ``@record`` share.

A file object is read only when it can end: one backed by a descriptor must be a regular file
(``/dev/zero``, a FIFO or a socket never ends), and no file object is read past
:data:`MAX_FILE_BYTES`; either is an :class:`UnhashableArgument` that says why, with the
caller's position put back, as after any failed read (a text file that does not decode).
A path is not read past :data:`MAX_FILE_BYTES` either.
``tempfile.NamedTemporaryFile``'s wrapper is a file object like the file it wraps.

A base name that tempfile made up (``tmp1u1h_hwi.jsonl``: :func:`tempfile.gettempprefix`,
then 8 characters of its alphabet, then nothing or a suffix from a dot on) is new in every run,
so it is keyed as ``tmp*`` and its suffix (``tmp*.jsonl``, :func:`keyed_name`): a temporary
file is keyed by its suffix and content. Recordings keyed by such a name never replayed (the
name never recurs), so no replay looks for them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import PurePath
from typing import Any

from apirec.errors import UnhashableArgument

_CHUNK = 1 << 20
# the most of a file object read for its key (larger uploads: pass the path or skip the key)
MAX_FILE_BYTES = 1 << 30
# tempfile.NamedTemporaryFile returns this wrapper (no io.IOBase), which delegates to its file
_WRAPPERS: tuple[type, ...] = tuple(
    t for t in (getattr(tempfile, "_TemporaryFileWrapper", None),) if isinstance(t, type)
)


# tempfile's made-up names (tempfile._RandomNameSequence, tempfile.mkstemp & co.): its
# prefix, 8 characters of its alphabet, then the caller's suffix
_TEMP_PREFIX = tempfile.gettempprefix()
_TEMP_ALPHABET = frozenset(
    getattr(
        getattr(tempfile, "_RandomNameSequence", None),
        "characters",
        "abcdefghijklmnopqrstuvwxyz0123456789_",
    )
)
_TEMP_RANDOM = 8
_TEMP_START, _TEMP_END = len(_TEMP_PREFIX), len(_TEMP_PREFIX) + _TEMP_RANDOM


def keyed_name(base: str) -> str:
    """A file's base name as keyed: one tempfile made up (``tmp1u1h_hwi.jsonl``) as ``tmp*``
    and its suffix (``tmp*.jsonl``); a suffix that is not empty must start with a dot, so a
    name chosen like ``tmp_settings.json`` keeps its name."""
    if not base.startswith(_TEMP_PREFIX) or len(base) < _TEMP_END:
        return base
    suffix = base[_TEMP_END:]
    if suffix and suffix[0] != ".":
        return base
    if not all(c in _TEMP_ALPHABET for c in base[_TEMP_START:_TEMP_END]):
        return base
    return f"{_TEMP_PREFIX}*{suffix}"


def is_file_object(value: Any) -> bool:
    """An open file or in-memory file (``open(...)``, ``BytesIO``, ``StringIO``,
    ``tempfile.NamedTemporaryFile()``)."""
    return isinstance(value, io.IOBase) or (bool(_WRAPPERS) and isinstance(value, _WRAPPERS))


# How a path may have been keyed when its call was recorded, other than as it is keyed now, in
# the order a replay that misses looks for them (as_recorded): its file absent then (the
# recorded call wrote it), or by earlier apirec versions, which kept a path to nothing as its text.
ABSENT, TEXT = "absent", "text"
OLDER_PATH_KEYS = (ABSENT, TEXT)
# set while a call is keyed again as recorded then (as_recorded)
_AS_RECORDED: ContextVar[str | None] = ContextVar("apirec_paths_as_recorded", default=None)
# paths (and named uploads) keyed other than by their text so far, by any thread: a caller
# compares it before and after keying a call (two reads of an int on every call's path, not a
# ContextVar set and reset); a count another thread moved meanwhile costs only a second look
# that finds nothing new
_paths_as_files = 0


def paths_keyed_as_files() -> int:
    """How many paths have been keyed by their content or as absent, and :class:`NamedUpload`
    as files, in this process so far."""
    return _paths_as_files


class NamedUpload(io.BytesIO):
    """Bytes given with a name as an upload (an SDK's ``(name, bytes)`` tuple): keyed as a
    file of that name holding them; as its ``pair`` when keyed as earlier versions did
    (:data:`TEXT`), which kept the tuple as it was."""

    def __init__(self, name: str | None, content: bytes, pair: tuple[Any, ...]) -> None:
        super().__init__(content)
        self.name = name
        self.pair = pair


@contextlib.contextmanager
def as_recorded(older: str) -> Iterator[None]:
    """Key every path as ``older`` (one of :data:`OLDER_PATH_KEYS`) keyed it: :data:`ABSENT`,
    a path to a regular file or to nothing as absent; :data:`TEXT`, every path as its text
    and every :class:`NamedUpload` as its pair."""
    token = _AS_RECORDED.set(older)
    try:
        yield
    finally:
        _AS_RECORDED.reset(token)


def path_key(value: PurePath, where: str = "") -> str | dict[str, str | bool]:
    """A path to a regular file as its base name (:func:`keyed_name`) and digest, a path to
    nothing as its base name marked absent; any other path as its text."""
    global _paths_as_files
    older = _AS_RECORDED.get()
    if older == TEXT:
        return str(value)
    try:
        info = os.stat(value)
    except FileNotFoundError:  # an output path: where it is does not matter, its name does
        _paths_as_files += 1
        return {"file": keyed_name(value.name), "absent": True}
    except (OSError, ValueError):  # unreadable, or a path with a NUL: keyed as written
        return str(value)
    if not stat.S_ISREG(info.st_mode):
        return str(value)
    if older == ABSENT:
        return {"file": keyed_name(value.name), "absent": True}
    size = info.st_size
    if size > MAX_FILE_BYTES:
        raise _too_large(value, where, f"{size} bytes")
    digest = hashlib.sha256()
    read = 0
    try:
        with open(value, "rb") as f:
            while chunk := f.read(_CHUNK):
                read += len(chunk)
                if read > MAX_FILE_BYTES:  # grew while read
                    raise _too_large(value, where, f"more than {MAX_FILE_BYTES} bytes")
                digest.update(chunk)
    except (OSError, ValueError):
        return str(value)
    _paths_as_files += 1
    return {"file": keyed_name(value.name), "sha256": digest.hexdigest()}


def file_key(value: Any, where: str) -> dict[str, str | int | None] | tuple[Any, ...]:
    """An open file as its base name (None when it has none; :func:`keyed_name`), the digest
    of its content and its position when not at the start; the position is restored. A
    :class:`NamedUpload` keyed as earlier versions did: its pair."""
    if type(value) is NamedUpload:
        global _paths_as_files
        if _AS_RECORDED.get() == TEXT:
            return value.pair
        _paths_as_files += 1
    try:
        position = value.tell()
    except (OSError, ValueError) as e:  # closed, or a pipe with no position
        raise _unreadable(value, where, e) from e
    _check_size(value, where)
    digest = hashlib.sha256()
    read = 0
    try:
        value.seek(0)
        while chunk := value.read(_CHUNK):
            data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
            read += len(data)
            if read > MAX_FILE_BYTES:  # an in-memory or endless file object
                raise _too_large(value, where, f"more than {MAX_FILE_BYTES} bytes")
            digest.update(data)
        value.seek(position)
    except (OSError, ValueError, UnhashableArgument) as e:
        with contextlib.suppress(OSError, ValueError):  # the caller's position back if it can be
            value.seek(position)
        if isinstance(e, UnhashableArgument):
            raise
        raise _unreadable(value, where, e) from e
    name = getattr(value, "name", None)
    base = (
        keyed_name(os.path.basename(os.fsdecode(name))) if isinstance(name, str | bytes) else None
    )
    key: dict[str, str | int | None] = {"file": base, "sha256": digest.hexdigest()}
    if position:
        key["position"] = position
    return key


def _check_size(value: Any, where: str) -> None:
    """A file object with a descriptor must be a regular file of at most MAX_FILE_BYTES."""
    try:
        fd = value.fileno()
        info = os.fstat(fd)
    except (OSError, ValueError, AttributeError):  # in memory: bounded while read
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
        raise _unkeyable(value, where, f"is {kind}, not a regular file: it may never end")
    if info.st_size > MAX_FILE_BYTES:
        raise _too_large(value, where, f"{info.st_size} bytes")


def _too_large(value: Any, where: str, size: str) -> UnhashableArgument:
    return _unkeyable(
        value, where, f"holds {size}, more than the {MAX_FILE_BYTES} bytes read for a key"
    )


def _unkeyable(value: Any, where: str, why: str) -> UnhashableArgument:
    t = type(value)
    return UnhashableArgument(
        f"argument {where!r}: the file {getattr(value, 'name', value)!r} {why}; it is not "
        f"read for its key: pass its bytes, or leave the argument out of the key (ignore=)",
        parameter=where,
        type_name=f"{t.__module__}.{t.__qualname__}",
    )


def _unreadable(value: Any, where: str, error: Exception) -> UnhashableArgument:
    t = type(value)
    return UnhashableArgument(
        f"argument {where!r}: the file {getattr(value, 'name', value)!r} cannot be read for "
        f"its key and put back where it was ({error}); pass it open and seekable, or its "
        f"path, or its bytes",
        parameter=where,
        type_name=f"{t.__module__}.{t.__qualname__}",
    )
