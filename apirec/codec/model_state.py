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

import functools
import warnings
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from apirec.codec.same_values import equal, exact_fields, is_value_data, same, same_fields_set

STATE = "__state__"
_KEYS = frozenset({"values", "drop", "set", "private"})


def lost_state(
    model: BaseModel, rebuilt: BaseModel, encode: Callable[[Any], Any]
) -> dict[str, Any] | None:
    """What ``rebuilt`` (``model`` decoded from its dump) lacks, encoded; None if nothing."""
    cls = type(model)
    fields = cls.model_fields
    own, back = model.__dict__, rebuilt.__dict__
    values: dict[str, Any] = {}
    private: dict[str, Any] = {}
    exact = exact_fields(cls)
    for k, v in own.items():
        if k in fields:
            if k not in back or not (equal(v, back[k]) if k in exact else same(v, back[k])):
                values[k] = v
        elif (
            _attribute_name(cls, k) and is_value_data(v) and (k not in back or not same(v, back[k]))
        ):
            private[k] = v  # set on the instance after parsing: openai's _request_id
    extra = model.__pydantic_extra__ or {}
    extra_back = rebuilt.__pydantic_extra__ or {}
    for k, v in extra.items():
        if k not in extra_back or not same(v, extra_back[k]):
            values[k] = v
    private_back = rebuilt.__pydantic_private__ or {}
    for k, v in (model.__pydantic_private__ or {}).items():
        if is_value_data(v) and (k not in private_back or not same(v, private_back[k])):
            private[k] = v
    state: dict[str, Any] = {}
    if values:
        state["values"] = _encoded(cls, values, encode)
    drop = [k for k in extra_back if k not in extra]
    if drop:
        state["drop"] = drop
    if not same_fields_set(model, rebuilt):
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


_attribute_names: dict[tuple[type, str], bool] = {}


def _attribute_name(cls: type, name: str) -> bool:
    """A private attribute a recording may set: ``_name``, never a dunder, never one the class
    has (a recording must not shadow a method or a descriptor)."""
    known = _attribute_names.get((cls, name))
    if known is None:
        known = (
            name.startswith("_")
            and not (name.startswith("__") and name.endswith("__"))
            and name.isidentifier()
            and (name in getattr(cls, "__private_attributes__", {}) or not hasattr(cls, name))
        )
        if len(_attribute_names) < 4096:  # hasattr on a model class costs an exception
            _attribute_names[cls, name] = known
    return known


Applier = Callable[[BaseModel, Callable[[Any], Any]], BaseModel]
_PLAIN = frozenset({str, int, float, bool, type(None)})  # decode gives them back as they are


def apply_state(obj: BaseModel, state: Any, decode: Callable[[Any], Any]) -> BaseModel:
    """Put back on ``obj`` (validated from the dump) what ``state`` says the dump lost."""
    return state_applier(type(obj), state)(obj, decode)


def state_applier(cls: type[BaseModel], state: Any) -> Applier:
    """:func:`apply_state` for one stored state, checked once: replay plans apply it often.

    Raises ValueError when ``state`` is not what :func:`lost_state` writes for ``cls``.
    """
    if type(state) is not dict or not _KEYS.issuperset(state):
        raise ValueError(f"'{STATE}' must be an object with only the keys {sorted(_KEYS)}")
    fields = cls.__pydantic_fields__
    keeps_extra = cls.model_config.get("extra") == "allow"
    to_fields: list[tuple[str, Any, bool]] = []
    to_extra: list[tuple[str, Any, bool]] = []
    if "values" in state:
        for k, raw in _object(state, "values").items():
            if k not in fields and not keeps_extra:
                raise ValueError(f"{k!r} is neither a field nor an extra value of this model")
            (to_fields if k in fields else to_extra).append((k, raw, type(raw) in _PLAIN))
    drop = _list(state, "drop") if "drop" in state and keeps_extra else []
    fields_set: list[str] | None = None
    if "set" in state:
        fields_set = _list(state, "set")
        unknown = [n for n in fields_set if n not in fields]
        if unknown and not keeps_extra:  # pydantic counts extra values as set fields
            raise ValueError(f"'set' names fields the model does not have: {unknown}")
    to_private: list[tuple[str, Any, bool]] = []
    if "private" in state:
        declared = cls.__private_attributes__
        for k, raw in _object(state, "private").items():
            if not _attribute_name(cls, k):
                raise ValueError(f"{k!r} is not a private attribute a recording may set")
            entry = (k, raw, type(raw) in _PLAIN)
            (to_private if k in declared else to_fields).append(entry)  # others: __dict__
    if not (to_extra or drop or fields_set is not None or to_private):
        return functools.partial(_set_fields, to_fields)  # openai's _request_id: the usual
    setattr_ = object.__setattr__

    def apply(obj: BaseModel, decode: Callable[[Any], Any]) -> BaseModel:
        _set_fields(to_fields, obj, decode)
        extra = obj.__pydantic_extra__
        if extra is not None:
            for k, raw, plain in to_extra:
                extra[k] = raw if plain else decode(raw)
            for k in drop:
                extra.pop(k, None)
        if fields_set is not None:
            setattr_(obj, "__pydantic_fields_set__", set(fields_set))
        if to_private:
            private = obj.__pydantic_private__
            if private is None:
                private = {}
                setattr_(obj, "__pydantic_private__", private)
            for k, raw, plain in to_private:
                private[k] = raw if plain else decode(raw)
        return obj

    return apply


def plain_fields(apply: Applier) -> dict[str, Any] | None:
    """What an applier of :func:`state_applier` sets, when all it does is put plain values
    (immutable: shared by every replay) in the model's ``__dict__`` (openai's
    ``_request_id``, the usual state): one ``dict.update`` per replay does the same."""
    if not (isinstance(apply, functools.partial) and apply.func is _set_fields):
        return None
    entries: list[tuple[str, Any, bool]] = apply.args[0]
    if not all(plain for _, _, plain in entries):
        return None
    return {k: raw for k, raw, _ in entries}


def _set_fields(
    entries: list[tuple[str, Any, bool]], obj: BaseModel, decode: Callable[[Any], Any]
) -> BaseModel:
    own = obj.__dict__
    for k, raw, plain in entries:
        own[k] = raw if plain else decode(raw)
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
