"""Recording exceptions as data and raising them again on replay (DESIGN §5).

Stored: type, ``str()`` as ``message``, the plain-data ``args`` and public attributes (the
format llama-stack's recordings share), and, only when needed: ``typed_args`` (every argument
encoded by the codec, with an ``opaque_args`` entry of type, ``str()`` and ``repr()`` for one
it cannot store); ``typed_attributes`` (public attributes made of values that are not plain
JSON, such as a ``Path`` ``filename``; never objects or configurations, which may hold
secrets); ``str_attributes`` (what ``__str__`` reads, :mod:`apirec.codec.exception_text`).
OSError's ``errno``, ``strerror``, ``filename`` and ``filename2`` and UnicodeError's
``encoding``, ``object``, ``start``, ``end`` and ``reason`` are attributes like the others;
``http_response`` is the status, method, URL and headers of an HTTP error's ``response``
(:mod:`apirec.codec.exception_http`). Files without the newer keys replay as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from apirec.codec.envelope import EXCEPTIONS, decode, encode
from apirec.codec.exception_http import KEY as HTTP_KEY
from apirec.codec.exception_http import http_exchange, keep_exchange
from apirec.codec.exception_text import (
    apply_needs,
    from_text,
    recorded_origin,
    recorded_type,
    safe_str,
    str_needs,
    text_of,
    with_recorded_text,
)
from apirec.codec.same_values import is_value_data
from apirec.codec.type_resolution import resolve, type_name
from apirec.errors import DecodeError, EncodeError, ReplayedError

_SIMPLE = (str, int, float, bool, type(None))
_STANDARD = {
    OSError: ("errno", "strerror", "filename", "filename2"),
    UnicodeError: ("encoding", "object", "start", "end", "reason"),
}
_MISSING: Any = object()
Decode = Callable[[Any], Any]


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


def _plain(value: Any, depth: int = 0) -> bool:
    """Exactly JSON: what comes back from a file as it went in (a tuple comes back a list)."""
    t = type(value)
    if t in _SIMPLE:
        return True
    if depth > 20:
        return False
    if t is list:
        return all(_plain(v, depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def _attributes(error: BaseException) -> Iterable[tuple[str, Any]]:
    yield from (vars(error) if hasattr(error, "__dict__") else {}).items()
    for base, names in _STANDARD.items():
        if isinstance(error, base):
            for name in names:  # C-level members, not in __dict__
                value = getattr(error, name, _MISSING)
                if value is not _MISSING and value is not None:
                    yield name, value


def exception_data(error: BaseException) -> dict[str, Any]:
    """What is stored of an exception (see the module's docstring).

    Public attributes that cannot be stored (openai's ``response`` and ``request``, live
    HTTP objects) are left out; ``not_recorded`` names them and their types, so a replay can
    say what is missing. Of an HTTP ``response``, ``http_response`` keeps what code reads.
    """
    attributes: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    not_recorded: dict[str, str] = {}
    for k, v in _attributes(error):
        if k.startswith("_"):
            continue
        if _plain(v):
            attributes[k] = v
            continue
        if not is_value_data(v):  # a live object or a configuration (it may hold secrets)
            not_recorded[k] = recorded_type(v)
            continue
        try:
            typed[k] = encode(v)
        except (EncodeError, RecursionError):
            not_recorded[k] = recorded_type(v)
    data: dict[str, Any] = {
        "type": type_name(type(error)),
        "message": safe_str(error),
        "args": [_listed(a) for a in error.args if _simple(a)],
        "attributes": attributes,
    }
    if not all(_plain(a) for a in error.args):
        data.update(_typed_args(error.args))
    if typed:
        data["typed_attributes"] = typed
    if not_recorded:
        data["not_recorded"] = not_recorded
    exchange = http_exchange(error)
    if exchange is not None:
        data[HTTP_KEY] = exchange
    cls = recorded_origin(type(error))

    def as_replayed(needs: dict[str, Any]) -> BaseException:
        return _build(cls, {**data, "str_attributes": needs}, decode, exact=True)

    needs = str_needs(error, data["message"], as_replayed, encode)
    if needs:
        data["str_attributes"] = needs
    return data


def _listed(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_listed(v) for v in value]
    if isinstance(value, dict):
        return {k: _listed(v) for k, v in value.items()}
    return value


def _typed_args(args: tuple[Any, ...]) -> dict[str, Any]:
    typed: list[Any] = []
    opaque: dict[str, Any] = {}
    for i, arg in enumerate(args):
        try:
            typed.append(encode(arg))
        except (EncodeError, RecursionError):
            typed.append(None)
            opaque[str(i)] = text_of(arg)
    out: dict[str, Any] = {"typed_args": typed}
    if opaque:
        out["opaque_args"] = opaque
    return out


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
    for ``OSError``), and the recorded attributes are set one by one. A built-in class is
    called (its ``__init__`` runs no code of anyone's and sets ``UnicodeError``'s members).
    """
    values = tuple(args) if args is not None else (message,)
    error = None
    if cls.__module__ == "builtins":
        with contextlib.suppress(Exception):
            error = cls(*values)
            if type(error) is not cls:  # OSError(2, ...) is a FileNotFoundError
                error = None
    if error is None:
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


def build_exception(cls: type, data: Any, decode: Decode = decode) -> BaseException:
    """``cls`` rebuilt from :func:`exception_data` (also used by the codec).

    ``decode`` decodes the typed parts (the codec passes its own, with its trusted modules).
    """
    if not isinstance(data, Mapping):
        raise ValueError("recorded exception data must be an object")
    if not issubclass(cls, BaseException):
        raise TypeError(f"{type_name(cls)} is not an exception class")
    return _build(cls, data, decode)


def _build(
    cls: type[BaseException], data: Mapping[str, Any], decode: Decode, exact: bool = False
) -> BaseException:
    """The exception as replay gives it; ``exact``: without the text subclass fallback."""
    attributes = dict(_mapping(data, "attributes"))
    attributes.update({k: decode(v) for k, v in _mapping(data, "typed_attributes").items()})
    message = str(data.get("message", ""))
    args = _args(data, decode)
    error = build_error(cls, message, args=args, attributes=attributes)
    if "str_attributes" in data:
        apply_needs(error, data["str_attributes"], decode)
    if exact or _gives(error, message):
        return error
    # its __str__ cannot give the recorded text from what was recorded: a subclass does
    error = build_error(with_recorded_text(cls), message, args=args, attributes=attributes)
    error.__dict__["_apirec_message"] = message
    if "str_attributes" in data:
        apply_needs(error, data["str_attributes"], decode)
    return error


def _gives(error: BaseException, message: str) -> bool:
    try:
        return str(error) == message
    except Exception:
        return False


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"recorded exception {key} must be an object")
    return value


def _args(data: Mapping[str, Any], decode: Decode) -> list[Any] | None:
    typed = data.get("typed_args")
    if typed is None:  # plain data only (and files written before typed_args)
        args = data.get("args")
        return args if isinstance(args, list) else None
    if not isinstance(typed, list):
        raise ValueError("recorded exception typed_args must be a list")
    args = [decode(v) for v in typed]
    for index, text in _mapping(data, "opaque_args").items():
        if not (isinstance(index, str) and index.isdigit() and int(index) < len(args)):
            raise ValueError(f"recorded exception opaque_args has a bad index {index!r}")
        args[int(index)] = from_text(text)
    return args


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
        "exception_message": safe_str(error),
    }


def rebuild_error(
    data: Mapping[str, Any], trusted_modules: tuple[str, ...], where: str
) -> BaseException:
    """The recorded exception as its own class when that is safe, else a ReplayedError."""
    error = _rebuild(data, trusted_modules)
    keep_exchange(error, data, where)
    _add_note(error, data, where)
    return error


def _rebuild(data: Mapping[str, Any], trusted_modules: tuple[str, ...]) -> BaseException:
    name = data.get("type")
    if not isinstance(name, str):
        return replayed_error("<unknown>", data)
    try:
        cls = resolve(name, trusted_modules)
        if not issubclass(cls, Exception):  # never raise SystemExit & co. from a file
            raise TypeError(name)
        return build_exception(cls, data, lambda raw: decode(raw, trusted_modules=trusted_modules))
    except Exception:  # Unresolvable, or a class that cannot be built from this data
        return replayed_error(name, data)


_NOTE = "_apirec_note"  # on a replayed error: its note, where it came from, what is missing


def _add_note(error: BaseException, data: Mapping[str, Any], where: str) -> None:
    """Say in the traceback where the error came from and what it lacks (``.response``)."""
    missing = data.get("not_recorded")
    missing = dict(missing) if isinstance(missing, Mapping) else {}
    note = _note(where, missing, "")
    error.add_note(note)
    error.__dict__[_NOTE] = (note, where, missing)


def _note(where: str, missing: Mapping[str, Any], there: str) -> str:
    note = f"replayed by apirec from {where}"
    if missing:
        listed = ", ".join(f"{k} ({v})" for k, v in missing.items())
        note += f"; not recorded, so absent on replay: {listed}"
    return f"{note}; {there}" if there else note


def note_rebuilt(error: BaseException, names: Iterable[str], how: str) -> None:
    """Restate a replayed error's note once an integration has set ``names`` (recorded as
    not stored) on it: no longer absent, they are there as ``how`` says."""
    state = vars(error).get(_NOTE)
    if state is None:
        return
    old, where, missing = state
    rebuilt = set(names)
    note = _note(where, {k: v for k, v in missing.items() if k not in rebuilt}, how)
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list) and old in notes:
        notes[notes.index(old)] = note
        error.__dict__[_NOTE] = (note, where, missing)


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


EXCEPTIONS.encode = encode_exception
EXCEPTIONS.build = build_exception
