"""Comparing values strictly: equal, and of the same types all the way down.

Encoding a pydantic model compares it with what replay will rebuild from its dump
(:mod:`apirec.codec.model_state`); ``==`` alone would miss an ``IntEnum`` that comes back an
``int`` or a ``True`` that comes back ``1``. Fields whose annotation fixes the types of
their values are compared with ``==`` (and ``type``), which is much cheaper.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import typing
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Annotated, Any, Literal, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel

_LEAVES = frozenset({str, int, bool, type(None), bytes})
_NUMBERS = _LEAVES | {float}


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``1 == True == 1.0`` is not enough)."""
    t = type(a)
    if t is not type(b):
        return False
    if t in _LEAVES:
        return bool(a == b)
    if t is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if t is list or t is tuple:
        if len(a) != len(b):
            return False
        if _NUMBERS.issuperset(map(type, a)):  # long lists of floats: C speed
            return a == b and list(map(type, a)) == list(map(type, b))
        return all(map(same, a, b))
    if t is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, BaseModel):
        if not same_fields_set(a, b):
            return False
        own, back = a.__dict__, b.__dict__
        if own.keys() != back.keys():
            return False
        exact = exact_fields(t)
        return (
            all(equal(v, back[k]) if k in exact else same(v, back[k]) for k, v in own.items())
            and same(a.__pydantic_extra__, b.__pydantic_extra__)
            and same(a.__pydantic_private__, b.__pydantic_private__)
        )
    try:
        return bool(a == b)
    except Exception:  # an __eq__ that refuses: call it different, store it
        return False


_exact: dict[type, frozenset[str]] = {}
_EXACT_TYPES = frozenset({str, int, float, bool, bytes, type(None), Decimal, UUID}) | {
    dt.datetime,
    dt.date,
    dt.time,
    dt.timedelta,
}


def same_fields_set(a: BaseModel, b: BaseModel) -> bool:
    """Whether the same declared fields count as set. Extra values are left out: validation
    counts them as set and openai's ``construct`` does not, and either way they are dumped."""
    fields = type(a).__pydantic_fields__.keys()
    return fields & a.__pydantic_fields_set__ == fields & b.__pydantic_fields_set__


def equal(a: Any, b: Any) -> bool:
    # a field whose type fixes its values' types (an SDK may still have put True in an int)
    return type(a) is type(b) and bool(a == b)


def exact_fields(cls: type[BaseModel]) -> frozenset[str]:
    """The fields where ``==`` is enough: their annotation fixes the type of every value in
    them, and no model is inside (a model may hold what ``==`` does not see)."""
    found = _exact.get(cls)
    if found is None:
        fields = cls.__pydantic_fields__
        found = frozenset(n for n, f in fields.items() if _exact_type(f.annotation))
        if len(_exact) < 4096:
            _exact[cls] = found
    return found


def _exact_type(annotation: Any, depth: int = 0) -> bool:
    if annotation in _EXACT_TYPES:
        return True
    if isinstance(annotation, type):
        return issubclass(annotation, Enum) and not issubclass(annotation, BaseModel)
    origin = get_origin(annotation)
    args = get_args(annotation)
    if depth > 8 or origin is None:
        return False
    if origin is Literal:
        return True
    if origin is Annotated:
        return _exact_type(args[0], depth + 1)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        return len(members) == 1 and _exact_type(members[0], depth + 1)
    if origin in (list, set, frozenset, dict) and args:
        return all(_exact_type(a, depth + 1) for a in args)
    if origin is tuple and args:
        return all(a is Ellipsis or _exact_type(a, depth + 1) for a in args)
    return False


_VALUE_TYPES = frozenset({str, int, float, bool, type(None), bytes, bytearray, Decimal, UUID})
_VALUE_TYPES |= {dt.datetime, dt.date, dt.time, dt.timedelta}


def is_value_data(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is made of values only (strings, numbers, bytes, datetimes, paths,
    enum members, and lists, tuples, sets and str-keyed dicts of them): data worth keeping
    beside what is always stored, never an SDK's machinery or a configuration object (openai's
    pages keep their model class and request options in private attributes)."""
    t = type(value)
    if t in _VALUE_TYPES or isinstance(value, PurePath | Enum):
        return True
    if depth > 8:
        return False
    if t is list or t is tuple or t is set or t is frozenset:
        return all(is_value_data(v, depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and is_value_data(v, depth + 1) for k, v in value.items())
    return False
