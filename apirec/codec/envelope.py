"""The envelope codec (DESIGN §4): typed values to JSON-ready data and back.

JSON scalars, lists and str-keyed dicts pass through; every other value becomes
``{"__type__": "module.QualName", "__data__": ...}``. Decoding follows the safety rules of
:mod:`apirec.codec.type_resolution` and always builds fresh objects, so a caller mutating a
replayed value never changes what the next replay returns.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import uuid
import warnings
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError
from pydantic_core import PydanticSerializationError

from apirec.codec.model_state import STATE, apply_state, lost_state
from apirec.codec.type_resolution import REGISTRY, Unresolvable, resolve, type_name
from apirec.codec.unvalidated import construct_unvalidated
from apirec.errors import DecodeError, EncodeError

_List = list
_Dict = dict

TYPE = "__type__"
DATA = "__data__"

_ENCODERS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    tuple: ("builtins.tuple", lambda v: [encode(x) for x in v]),
    set: ("builtins.set", lambda v: _sorted_members(v)),
    frozenset: ("builtins.frozenset", lambda v: _sorted_members(v)),
    bytes: ("builtins.bytes", lambda v: base64.b64encode(v).decode("ascii")),
    bytearray: ("builtins.bytearray", lambda v: base64.b64encode(v).decode("ascii")),
    dt.datetime: ("datetime.datetime", lambda v: v.isoformat()),
    dt.date: ("datetime.date", lambda v: v.isoformat()),
    dt.time: ("datetime.time", lambda v: v.isoformat()),
    dt.timedelta: ("datetime.timedelta", lambda v: [v.days, v.seconds, v.microseconds]),
    uuid.UUID: ("uuid.UUID", str),
    Decimal: ("decimal.Decimal", str),
}

_INT = "builtins.int"
_LONGEST_INT = 10**4299  # sys.get_int_max_str_digits() is 4,300 by default

_SCALAR_DECODERS: dict[str, Callable[[Any], Any]] = {
    _INT: lambda d: int(_expect(d, str), 16),
    "builtins.bytes": lambda d: base64.b64decode(_expect(d, str), validate=True),
    "builtins.bytearray": lambda d: bytearray(base64.b64decode(_expect(d, str), validate=True)),
    "datetime.datetime": lambda d: dt.datetime.fromisoformat(_expect(d, str)),
    "datetime.date": lambda d: dt.date.fromisoformat(_expect(d, str)),
    "datetime.time": lambda d: dt.time.fromisoformat(_expect(d, str)),
    "datetime.timedelta": lambda d: dt.timedelta(*_expect(d, list)),
    "uuid.UUID": lambda d: uuid.UUID(_expect(d, str)),
    "decimal.Decimal": lambda d: Decimal(_expect(d, str)),
    "pathlib.Path": lambda d: Path(_expect(d, str)),
    "pathlib.PurePath": lambda d: PurePath(_expect(d, str)),
}
_CONTAINERS: dict[str, Callable[[list[Any]], Any]] = {
    "builtins.tuple": tuple,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
}


class _Exceptions:
    """Exceptions as data live in :mod:`apirec.codec.exception_data`, which uses this module
    (typed arguments are encoded here) and fills these in when imported (``apirec.codec``
    imports it first)."""

    encode: Callable[[BaseException], Any]
    build: Callable[[type, Any, Callable[[Any], Any]], BaseException]


EXCEPTIONS = _Exceptions()


def _sorted_members(value: Iterable[Any]) -> list[Any]:
    encoded = [encode(x) for x in value]
    try:
        return sorted(encoded)
    except TypeError:  # mixed types: any stable order will do
        return sorted(encoded, key=repr)


def _envelope(name: str, data: Any) -> dict[str, Any]:
    return {TYPE: name, DATA: data}


def encode(value: Any) -> Any:
    """Turn ``value`` into JSON-ready data, wrapping typed values in envelopes."""
    t = type(value)
    if t is str or t is float or t is bool or value is None:
        return value
    if t is int:
        # past Python's int-to-text limit JSON can neither write nor read it as a number
        return value if -_LONGEST_INT < value < _LONGEST_INT else _envelope(_INT, hex(value))
    if t is list:
        return [encode(v) for v in value]
    if t is dict:
        if all(type(k) is str for k in value):
            body = {k: encode(v) for k, v in value.items()}
            return _envelope("builtins.dict", body) if TYPE in value else body
        return _envelope("builtins.dict", [[encode(k), encode(v)] for k, v in value.items()])
    return _encode_typed(value, t)


def encode_result(value: Any, what: str) -> Any:
    """:func:`encode` for what a call returned (``what`` names it): a value that refers back
    to itself, or is nested deeper than the stack, is an :class:`EncodeError` saying where."""
    try:
        return encode(value)
    except (RecursionError, ValueError) as error:  # ValueError: pydantic's own cycle check
        from apirec.codec.cycles import find_cycle

        cycle = find_cycle(value)
        if cycle is not None:
            place, target = cycle
            raise EncodeError(
                f"{what} holds a reference cycle: {place} refers back to {target}; apirec "
                f"stores data, not object graphs: return the data without the back reference"
            ) from None
        if isinstance(error, RecursionError):
            raise EncodeError(f"{what} is nested too deeply to store") from None
        raise


def _encode_typed(value: Any, t: type) -> Any:
    registered = REGISTRY.for_class(t)
    if registered is not None:
        return _envelope(type_name(t), encode(registered.encode(value)))
    if isinstance(value, BaseModel):
        return _encode_model(value, t)
    if isinstance(value, Enum):
        return _envelope(type_name(t), encode(value.value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return _envelope(type_name(t), fields)
    if isinstance(value, BaseException):
        return EXCEPTIONS.encode(value)
    if isinstance(value, PurePath):
        kind = "pathlib.Path" if isinstance(value, Path) else "pathlib.PurePath"
        return _envelope(kind, str(value))
    known = _ENCODERS.get(t)
    if known is None:  # subclasses (of datetime, say); not tuple's: named tuples carry fields
        subclass_of = [
            enc for base, enc in _ENCODERS.items() if base is not tuple and isinstance(value, base)
        ]
        known = subclass_of[0] if subclass_of else None
    if known is not None:
        name, fn = known
        return _envelope(name, fn(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    raise EncodeError(
        f"cannot store a value of type {type_name(t)}: apirec stores JSON data, pydantic "
        f"models, dataclasses, enums and the standard value types; add this one with "
        f"apirec.register_type({t.__qualname__}, encode, decode)"
    )


def _encode_model(value: BaseModel, t: type[BaseModel]) -> dict[str, Any]:
    try:
        data = value.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
    except (UnicodeDecodeError, PydanticSerializationError):
        # a value pydantic has no JSON form for (non-UTF-8 bytes under Any): apirec's own
        data = encode(value.model_dump(by_alias=True, exclude_unset=True, warnings=False))
    envelope = _envelope(type_name(t), data)
    try:  # rebuilt as replay will rebuild it, to keep beside the dump what that loses
        rebuilt = _Decoder((), True).model(t, data, copy=False)
    except Exception:  # replay reports it, with the file and the place
        return envelope
    state = lost_state(value, rebuilt, encode)
    if state is not None:
        envelope[STATE] = state
    return envelope


_NO_STATE: Any = object()
_ENVELOPE_RULE = (
    "an object with a '__type__' key must be an envelope of exactly '__type__' (a string) "
    "and '__data__', and '__state__' for a pydantic model"
)


class _Decoder:
    # methods named after what they decode; builtins aliased to keep annotations legible
    def __init__(self, trusted_modules: Iterable[str], strict_types: bool) -> None:
        self.trusted = tuple(trusted_modules)
        self.strict = strict_types

    def value(self, data: Any) -> Any:
        t = type(data)
        if t is list:
            return self.list(data)
        if t is dict:
            if TYPE in data:
                return self.envelope(data)
            return self.dict(data)
        return data

    def list(self, data: _List[Any]) -> _List[Any]:
        out = []
        for i, item in enumerate(data):
            try:
                out.append(self.value(item))
            except DecodeError as e:
                raise e.located(prefix=f"$[{i}]") from e.__cause__
        return out

    def dict(self, data: _Dict[str, Any]) -> _Dict[str, Any]:
        out = {}
        for k, item in data.items():
            try:
                out[k] = self.value(item)
            except DecodeError as e:
                raise e.located(prefix=f"$.{k}") from e.__cause__
        return out

    def envelope(self, data: _Dict[str, Any]) -> Any:
        name = data[TYPE]
        state = data.get(STATE, _NO_STATE)
        size = 2 if state is _NO_STATE else 3
        if type(name) is not str or DATA not in data or len(data) != size:
            raise DecodeError(_ENVELOPE_RULE, type_name=str(name)[:200])
        payload = data[DATA]
        try:
            return self._build(name, payload, state)
        except DecodeError:
            raise
        except Unresolvable as e:
            if not self.strict:
                warnings.warn(f"apirec: returning raw data for {name}: {e}", stacklevel=2)
                return self.value(payload)
            raise DecodeError(str(e), type_name=name) from None
        except Exception as e:  # the data is untrusted: any failure to build is a DecodeError
            raise DecodeError(f"invalid data for {name}: {_describe(e)}", type_name=name) from e

    def _build(self, name: str, payload: Any, state: Any = _NO_STATE) -> Any:
        if state is not _NO_STATE:
            builtin = name in _CONTAINERS or name in _SCALAR_DECODERS or name == "builtins.dict"
            cls = object if builtin or REGISTRY.for_name(name) else resolve(name, self.trusted)
            if not issubclass(cls, BaseModel):
                raise DecodeError(_ENVELOPE_RULE, type_name=name)
            return apply_state(self.model(cls, payload), state, self.value)
        container = _CONTAINERS.get(name)
        if container is not None:
            return container(self.list(_expect(payload, list)))
        if name == "builtins.dict":
            return self.escaped_dict(payload)
        scalar = _SCALAR_DECODERS.get(name)
        if scalar is not None:
            return scalar(payload)
        registered = REGISTRY.for_name(name)
        if registered is not None:
            return registered.decode(self.value(payload))
        cls = resolve(name, self.trusted)
        if issubclass(cls, BaseModel):
            return self.model(cls, payload)
        if issubclass(cls, Enum):
            return cls(self.value(payload))
        if issubclass(cls, BaseException):
            return EXCEPTIONS.build(cls, payload, self.value)
        return self.dataclass(cls, payload)

    def model(self, cls: type[BaseModel], payload: Any, copy: bool = True) -> BaseModel:
        root = issubclass(cls, RootModel)
        if type(payload) is not dict and not root:
            raise DecodeError(f"{type_name(cls)} needs an object, found {type(payload).__name__}")
        try:
            # a copy: pydantic keeps dicts and lists under Any fields and extras by reference
            return cls.model_validate(fresh_json(payload) if copy else payload)
        except ValidationError:
            # SDKs build responses without validation (openai's construct); do the same.
            if root:
                return cls.model_construct(root=self.value(payload))
            return construct_unvalidated(cls, self.dict(payload))

    def escaped_dict(self, payload: Any) -> _Dict[Any, Any]:
        if type(payload) is dict:
            return self.dict(payload)
        pairs = self.list(_expect(payload, list))
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise ValueError("a dict with non-string keys is stored as [key, value] pairs")
        return {_hashable(k): v for k, v in pairs}

    def dataclass(self, cls: type, payload: Any) -> Any:
        fields = self.value(_expect(payload, dict))
        obj: Any = object.__new__(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        for k, v in fields.items():
            if k not in known:
                raise DecodeError(f"{type_name(cls)} has no field {k!r}", type_name=type_name(cls))
            object.__setattr__(obj, k, v)
        return obj


_MUTABLE = frozenset({dict, list})


def fresh_json(data: Any) -> Any:
    """A deep copy of JSON data: dicts and lists copied, everything else shared as it is."""
    t = type(data)
    if t is dict:
        return {k: fresh_json(v) if type(v) in _MUTABLE else v for k, v in data.items()}
    if t is list:
        if _MUTABLE.isdisjoint(map(type, data)):  # a list of scalars (1,536 floats): C speed
            return data.copy()
        return [fresh_json(v) if type(v) in _MUTABLE else v for v in data]
    return data


def _describe(error: Exception) -> str:
    text = str(error)[:500]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _expect(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__}, found {type(value).__name__}")
    return value


def decode(
    data: Any,
    *,
    trusted_modules: Iterable[str] = (),
    strict_types: bool = True,
    file: str | None = None,
) -> Any:
    """Rebuild the value that :func:`encode` turned into ``data``; always fresh objects."""
    try:
        return _Decoder(trusted_modules, strict_types).value(data)
    except DecodeError as e:
        raise e.located(file=file) from e.__cause__
    except RecursionError:
        raise DecodeError("data nested too deeply", file=file) from None
