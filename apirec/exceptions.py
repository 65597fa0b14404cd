"""Recording exceptions as data and raising them again on replay (DESIGN §5)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, NoReturn

from .errors import DecodeError, ReplayedError
from .resolve import type_name

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
    """What is stored of an exception: type, message, ``args`` and simple public attributes."""
    attributes = (
        {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in vars(error).items()
            if not k.startswith("_") and _simple(v)
        }
        if hasattr(error, "__dict__")
        else {}
    )
    args = [a for a in error.args if _simple(a)]
    return {
        "type": type_name(type(error)),
        "message": str(error),
        "args": args,
        "attributes": attributes,
    }


def encode_exception(error: BaseException) -> dict[str, Any]:
    return {"__type__": type_name(type(error)), "__data__": exception_data(error)}


def build_exception(cls: type, data: Any) -> BaseException:
    """An instance of ``cls`` with the recorded state, built without calling ``__init__``."""
    if not isinstance(data, Mapping):
        raise ValueError("recorded exception data must be an object")
    assert issubclass(cls, BaseException)
    error = cls.__new__(cls)
    args = data.get("args")
    error.args = tuple(args) if isinstance(args, list) else (data.get("message", ""),)
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ValueError("recorded exception attributes must be an object")
    for k, v in attributes.items():
        if not isinstance(k, str) or k.startswith("_"):
            continue  # only public attributes are recorded; never __class__ or __dict__
        # read-only properties and setters that refuse: the value stays in args
        with contextlib.suppress(Exception):
            setattr(error, k, v)
    return error


def replayed_error(type_name_: str, data: Mapping[str, Any], where: str = "") -> ReplayedError:
    attributes = data.get("attributes")
    return ReplayedError(
        type_name_,
        str(data.get("message", "")),
        attributes if isinstance(attributes, Mapping) else {},
        file=where or None,
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
    from .resolve import Unresolvable, resolve

    name = data.get("type")
    if not isinstance(name, str):
        return replayed_error("<unknown>", data, where)
    try:
        cls = resolve(name, trusted_modules)
    except Unresolvable:
        return replayed_error(name, data, where)
    # Only what ``except Exception`` recorded: never SystemExit or KeyboardInterrupt.
    if not issubclass(cls, Exception):
        return replayed_error(name, data, where)
    try:
        return build_exception(cls, data)
    except Exception:  # a class that cannot be built from this data
        return replayed_error(name, data, where)


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
