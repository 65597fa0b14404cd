"""What a pydantic model's dump loses, kept beside it so replay gives the recorded model.

A model is stored as ``model_dump(mode="json", by_alias=True, exclude_unset=True)``, and
replay validates that dump. Validation does not give back everything: values default
factories made (generated ids, timestamps) are made again, excluded fields and fields whose
serialization alias validation does not know are missing, values under ``Any`` and ``extra``
come back as JSON (a datetime as a string), ``model_fields_set`` may differ, and attributes
set after parsing (openai's ``_request_id``) are gone.

So encoding rebuilds the model from its dump the way replay will, compares, and keeps only
what differs under the envelope's optional ``"__state__"`` key::

    {"values": {name: encoded value},   # fields and extra values, set after validation
     "drop": [extra key, ...],          # extra values validation made from aliased keys
     "set": [field name, ...],          # model_fields_set, when validation gets it wrong
     "private": {name: encoded value}}  # private attributes holding data (``_request_id``)

A model that loses nothing is stored exactly as before, and a stored model without the key
decodes as before: recordings of older versions stay valid and round-trip byte for byte.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

STATE = "__state__"
_KEYS = frozenset({"values", "drop", "set", "private"})
_LEAVES = frozenset({str, int, bool, type(None), bytes})


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
        if a == b and _LEAVES.union({float}).issuperset(map(type, a)):
            return list(map(type, a)) == list(map(type, b))  # long lists of floats: C speed
        return all(map(same, a, b))
    if t is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, BaseModel):
        return (
            a.__pydantic_fields_set__ == b.__pydantic_fields_set__
            and same(a.__dict__, b.__dict__)
            and same(a.__pydantic_extra__, b.__pydantic_extra__)
            and same(a.__pydantic_private__, b.__pydantic_private__)
        )
    try:
        return bool(a == b)
    except Exception:  # an __eq__ that refuses: call it different, store it
        return False


def lost_state(
    model: BaseModel, rebuilt: BaseModel, encode: Callable[[Any], Any]
) -> dict[str, Any] | None:
    """What ``rebuilt`` (``model`` decoded from its dump) lacks, encoded; None if nothing."""
    cls = type(model)
    fields = cls.model_fields
    own, back = model.__dict__, rebuilt.__dict__
    values: dict[str, Any] = {}
    private: dict[str, Any] = {}
    for k, v in own.items():
        if k in fields:
            if k not in back or not same(v, back[k]):
                values[k] = v
        elif _attribute_name(cls, k) and _data(v) and (k not in back or not same(v, back[k])):
            private[k] = v  # set on the instance after parsing: openai's _request_id
    extra = model.__pydantic_extra__ or {}
    extra_back = rebuilt.__pydantic_extra__ or {}
    for k, v in extra.items():
        if k not in extra_back or not same(v, extra_back[k]):
            values[k] = v
    private_back = rebuilt.__pydantic_private__ or {}
    for k, v in (model.__pydantic_private__ or {}).items():
        if _data(v) and (k not in private_back or not same(v, private_back[k])):
            private[k] = v
    state: dict[str, Any] = {}
    if values:
        state["values"] = _encoded(cls, values, encode)
    drop = [k for k in extra_back if k not in extra]
    if drop:
        state["drop"] = drop
    if model.__pydantic_fields_set__ != rebuilt.__pydantic_fields_set__:
        state["set"] = sorted(model.__pydantic_fields_set__)
    if private:
        state["private"] = _encoded(cls, private, encode)
    return state or None


def _encoded(cls: type, values: dict[str, Any], encode: Callable[[Any], Any]) -> dict[str, Any]:
    from apirec.errors import EncodeError

    out = {}
    for k, v in values.items():
        try:
            out[k] = encode(v)
        except EncodeError as e:
            # pydantic could dump it (its JSON form is stored) but apirec cannot keep its type
            warnings.warn(
                f"apirec: {cls.__qualname__}.{k} replays as its JSON form: {e}", stacklevel=4
            )
    return out


_VALUE_TYPES = frozenset({str, int, float, bool, type(None), bytes, Decimal, UUID})
_VALUE_TYPES |= {dt.datetime, dt.date, dt.time, dt.timedelta}


def _data(value: Any, depth: int = 0) -> bool:
    """Whether a private attribute holds data worth keeping: values, not the SDK's machinery
    (openai's pages keep their model class and request options in private attributes)."""
    t = type(value)
    if t in _VALUE_TYPES:
        return True
    if depth > 8:
        return False
    if t is list or t is tuple:
        return all(_data(v, depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and _data(v, depth + 1) for k, v in value.items())
    return False


def _attribute_name(cls: type, name: str) -> bool:
    """A private attribute a recording may set: ``_name``, never a dunder, never one the class
    has (a recording must not shadow a method or a descriptor)."""
    return (
        name.startswith("_")
        and not (name.startswith("__") and name.endswith("__"))
        and name.isidentifier()
        and (name in getattr(cls, "__private_attributes__", {}) or not hasattr(cls, name))
    )


def apply_state(obj: BaseModel, state: Any, decode: Callable[[Any], Any]) -> BaseModel:
    """Put back on ``obj`` (validated from the dump) what ``state`` says the dump lost."""
    cls = type(obj)
    if type(state) is not dict or not _KEYS.issuperset(state):
        raise ValueError(f"'{STATE}' must be an object with only the keys {sorted(_KEYS)}")
    fields = cls.model_fields
    own = obj.__dict__
    for k, raw in _object(state, "values").items():
        if k in fields:
            own[k] = decode(raw)
        elif obj.__pydantic_extra__ is not None:  # read only after the class's attributes
            obj.__pydantic_extra__[k] = decode(raw)
        else:
            raise ValueError(f"{k!r} is neither a field nor an extra value of this model")
    for k in _list(state, "drop"):
        if obj.__pydantic_extra__ is not None:
            obj.__pydantic_extra__.pop(k, None)
    if "set" in state:
        names = _list(state, "set")
        unknown = [n for n in names if n not in fields]
        if unknown:
            raise ValueError(f"'set' names fields the model does not have: {unknown}")
        object.__setattr__(obj, "__pydantic_fields_set__", set(names))
    for k, raw in _object(state, "private").items():
        if not _attribute_name(cls, k):
            raise ValueError(f"{k!r} is not a private attribute a recording may set")
        if k in getattr(cls, "__private_attributes__", {}):
            if obj.__pydantic_private__ is None:
                object.__setattr__(obj, "__pydantic_private__", {})
            obj.__pydantic_private__[k] = decode(raw)  # type: ignore[index]
        else:
            own[k] = decode(raw)
    return obj


def _object(state: dict[str, Any], key: str) -> dict[str, Any]:
    value = state.get(key, {})
    if type(value) is not dict:
        raise ValueError(f"'{STATE}.{key}' must be an object")
    return value


def _list(state: dict[str, Any], key: str) -> list[str]:
    value = state.get(key, [])
    if type(value) is not list or not all(type(v) is str for v in value):
        raise ValueError(f"'{STATE}.{key}' must be a list of names")
    return value
