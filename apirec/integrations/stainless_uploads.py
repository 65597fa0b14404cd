"""Uploads given as ``(name, bytes)`` to an SDK generated like openai's: keyed as the file.

These SDKs take a file parameter (annotated ``FileTypes``: ``files.create(file=...)``,
``images.edit(image=...)``, ``audio.transcriptions.create(file=...)``) as a path, an open
file, bytes, or a tuple ``(name, content[, content type[, headers]])``. A path or an open file
is keyed by its base name and content (:mod:`apirec.keys.files`); the tuple with bytes is
keyed the same way, ``("train.jsonl", data)`` as ``Path("train.jsonl")`` holding ``data``,
instead of a list holding the bytes (stored in base64): a
:class:`~apirec.keys.files.NamedUpload`, which a replay that misses keys again as the pair it
was (recordings made before). A tuple with a content type (and headers) after the bytes is
keyed as it always was. Only these parameters of these SDKs: a ``(str, bytes)`` tuple anywhere
else (a recorded function's argument) is keyed as it always was too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from apirec.keys.files import NamedUpload

_FILE_TYPES = "FileTypes"  # the name of the generated SDKs' upload type in annotations


def file_parameters(function: Callable[..., Any]) -> frozenset[str]:
    """The parameters of a resource method that take uploads, by their annotation (the SDKs'
    modules postpone annotations, so each is the text they wrote: ``"FileTypes"``,
    ``"Union[FileTypes, SequenceNotStr[FileTypes]]"``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(
        p.name for p in parameters if isinstance(p.annotation, str) and _FILE_TYPES in p.annotation
    )


def keyed_uploads(kwargs: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """``kwargs`` with each ``(name, bytes)`` upload under ``names`` (or in a list there)
    as a named in-memory file, which keys as a file; the caller's arguments are not changed."""
    out = kwargs
    for name in names:
        value = kwargs.get(name)
        if type(value) is tuple:
            upload = _as_file(value)
        elif type(value) is list and any(type(v) is tuple for v in value):
            upload = [_as_file(v) if type(v) is tuple else v for v in value]
        else:
            continue
        if out is kwargs:
            out = dict(kwargs)
        out[name] = upload
    return out


def _as_file(upload: tuple[Any, ...]) -> Any:
    """``(name, bytes)`` as a file named ``name``; any other tuple as it is."""
    if len(upload) != 2:
        return upload
    name, content = upload
    if not (name is None or isinstance(name, str)) or not isinstance(content, bytes | bytearray):
        return upload
    return NamedUpload(name, bytes(content), upload)
