"""Recording exceptions as data and raising them again on replay (DESIGN §5)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from apirec.codec.type_resolution import type_name
from apirec.errors import DecodeError, ReplayedError

_SIMPLE = (str, int, float, bool, type(None))


def _simple(value: Any, depth: int = 0) -> bool:
    """JSON-like data only: attributes worth keeping (``status_code``, ``body``)."""
    if isinstance(value, _SIMPLE):
        return True
    if depth > 20:
        return False
    if isinstance(value, list | tuple):
        return all(_simple(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _simple(v, depth + 1) for k, v in value.items())
    return False


def exception_data(error: BaseException) -> dict[str, Any]:
    """What is stored of an exception: type, message, ``args`` and simple public attributes.

    Public attributes that are not plain data (openai's ``response`` and ``request``, live
    HTTP objects) are not stored; ``not_recorded`` names them and their types, so a replay can
    say what is missing.
    """
    attributes: dict[str, Any] = {}
    not_recorded: dict[str, str] = {}
    for k, v in (vars(error) if hasattr(error, "__dict__") else {}).items():
        if k.startswith("_"):
            continue
        if _simple(v):
            attributes[k] = list(v) if isinstance(v, tuple) else v
        else:
            not_recorded[k] = type_name(type(v))
    data: dict[str, Any] = {
        "type": type_name(type(error)),
        "message": str(error),
        "args": [a for a in error.args if _simple(a)],
        "attributes": attributes,
    }
    if not_recorded:
        data["not_recorded"] = not_recorded
    return data


def encode_exception(error: BaseException) -> dict[str, Any]:
    return {"__type__": type_name(type(error)), "__data__": exception_data(error)}


def build_error(
    cls: type[BaseException],
    message: str,
    *,
    args: Iterable[Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> BaseException:
    """An instance of ``cls`` with the recorded state, without calling its ``__init__``.

    ``__init__`` may want arguments that were never data (openai's ``APIStatusError`` needs
    ``response=``), and running it is not needed: ``__new__`` stores ``args`` (and parses them
    for ``OSError``), and the recorded attributes are set one by one.
    """
    values = tuple(args) if args is not None else (message,)
    try:
        error = cls.__new__(cls, *values)
    except TypeError:  # a __new__ with its own signature
        error = cls.__new__(cls)
    error.args = values
    for k, v in (attributes or {}).items():
        if not isinstance(k, str) or k.startswith("_"):
            continue  # only public attributes are recorded: never __class__ or __dict__
        # read-only properties and setters that refuse: the value stays in args
        with contextlib.suppress(Exception):
            setattr(error, k, v)
    return error


def build_http_error(
    cls: type[BaseException], message: str, *, status_code: int | None, body: Any
) -> BaseException:
    """An HTTP API error (openai's ``APIStatusError`` family) from its status code and body.

    Sets ``message``, ``status_code`` and ``body``, and ``code`` / ``param`` / ``type`` from
    the body the way the openai SDK does; for recordings that keep only these fields
    (llama-stack's ``exception_data``).
    """
    attributes: dict[str, Any] = {"message": message, "body": body}
    if status_code is not None:
        attributes["status_code"] = status_code
    if isinstance(body, Mapping):
        code = body.get("code")
        attributes["code"] = str(code) if code is not None else None
        attributes["param"] = body.get("param")
        attributes["type"] = body.get("type")
    return build_error(cls, message, attributes=attributes)


def build_exception(cls: type, data: Any) -> BaseException:
    """``cls`` rebuilt from :func:`exception_data` (also used by the codec)."""
    if not isinstance(data, Mapping):
        raise ValueError("recorded exception data must be an object")
    if not issubclass(cls, BaseException):
        raise TypeError(f"{type_name(cls)} is not an exception class")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ValueError("recorded exception attributes must be an object")
    args = data.get("args")
    return build_error(
        cls,
        str(data.get("message", "")),
        args=args if isinstance(args, list) else None,
        attributes=attributes,
    )


def replayed_error(type_name_: str, data: Mapping[str, Any]) -> ReplayedError:
    attributes = data.get("attributes")
    return ReplayedError(
        type_name_,
        str(data.get("message", "")),
        attributes if isinstance(attributes, Mapping) else {},
    )


def error_response(error: BaseException) -> dict[str, Any]:
    """The ``response`` of a recording whose call raised ``error``."""
    return {
        "body": None,
        "is_streaming": False,
        "is_exception": True,
        "exception_data": exception_data(error),
        "exception_message": str(error),
    }


def rebuild_error(
    data: Mapping[str, Any], trusted_modules: tuple[str, ...], where: str
) -> BaseException:
    """The recorded exception as its own class when that is safe, else a ReplayedError."""
    error = _rebuild(data, trusted_modules)
    _add_note(error, data, where)
    return error


def _rebuild(data: Mapping[str, Any], trusted_modules: tuple[str, ...]) -> BaseException:
    from apirec.codec.type_resolution import resolve

    name = data.get("type")
    if not isinstance(name, str):
        return replayed_error("<unknown>", data)
    try:
        cls = resolve(name, trusted_modules)
        if not issubclass(cls, Exception):  # never raise SystemExit & co. from a file
            raise TypeError(name)
        return build_exception(cls, data)
    except Exception:  # Unresolvable, or a class that cannot be built from this data
        return replayed_error(name, data)


def _add_note(error: BaseException, data: Mapping[str, Any], where: str) -> None:
    """Say in the traceback where the error came from and what it lacks (``.response``)."""
    note = f"replayed by apirec from {where}"
    missing = data.get("not_recorded")
    if isinstance(missing, Mapping) and missing:
        listed = ", ".join(f"{k} ({v})" for k, v in missing.items())
        note += f"; not recorded, so absent on replay: {listed}"
    error.add_note(note)


def raise_recorded(
    response: Mapping[str, Any], trusted_modules: tuple[str, ...], where: str
) -> NoReturn:
    try:
        data = response.get("exception_data")
        if not isinstance(data, Mapping):
            data = {"type": "<unknown>", "message": str(response.get("exception_message", ""))}
        error = rebuild_error(data, trusted_modules, where)
    except RecursionError:
        raise DecodeError("recorded exception nested too deeply", file=where) from None
    raise error
