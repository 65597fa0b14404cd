"""Decoding prepared once per stored value, then run on every replay (the replay fast path).

:func:`plan` looks at a stored value once (type resolution, the envelope's shape) and returns
a function that builds a fresh copy of the decoded value per call. Most replayed values are
one pydantic model (a chat completion, an embedding, a stream chunk): for those the plan is
``cls.model_validate(payload)`` on the stored payload when the first validation showed that
the model keeps none of the payload's dicts or lists, and validation of a fresh copy of the
payload otherwise (pydantic keeps values under ``Any`` fields and ``extra`` values by
reference, and a caller mutating them must never change what the next replay returns).
Everything else goes through :func:`apirec.codec.decode`, which always builds fresh values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import msgpack
from pydantic import BaseModel, ValidationError

from .codec import DATA, TYPE, decode, fresh_json
from .resolve import REGISTRY, resolve

Plan = Callable[[], Any]
_SCALARS = (str, int, float, bool, type(None))


def plan(data: Any, *, trusted_modules: Iterable[str] = (), strict_types: bool = True) -> Plan:
    """A function returning, per call, what ``decode(data)`` returns (a fresh value)."""
    if type(data) in _SCALARS:
        return lambda: data
    trusted = tuple(trusted_modules)
    fast = _model_plan(data, trusted)
    if fast is not None:
        return fast
    return lambda: decode(data, trusted_modules=trusted, strict_types=strict_types)


def _model_plan(data: Any, trusted: tuple[str, ...]) -> Plan | None:
    if type(data) is not dict or len(data) != 2 or type(data.get(TYPE)) is not str:
        return None
    payload = data.get(DATA)
    name = data[TYPE]
    if type(payload) is not dict or REGISTRY.for_name(name) is not None:
        return None
    try:
        cls = resolve(name, trusted)
    except Exception:  # decode() reports it, with the file and the place
        return None
    if not issubclass(cls, BaseModel):
        return None
    validate = cls.model_validate
    try:
        first = validate(payload)
    except ValidationError:  # rebuilt without validation: decode() knows how
        return None
    if not _shares(first, _container_ids(payload, set())):
        return lambda: validate(payload)
    try:
        packed = msgpack.packb(payload, use_bin_type=True)
    except Exception:
        return lambda: validate(fresh_json(payload))
    unpackb = msgpack.unpackb
    return lambda: validate(unpackb(packed, raw=False))


def _container_ids(data: Any, ids: set[int]) -> set[int]:
    t = type(data)
    if t is dict:
        ids.add(id(data))
        for v in data.values():
            if type(v) is dict or type(v) is list:
                _container_ids(v, ids)
    elif t is list:
        ids.add(id(data))
        for v in data:
            if type(v) is dict or type(v) is list:
                _container_ids(v, ids)
    return ids


def _shares(value: Any, ids: set[int]) -> bool:
    """Whether ``value`` holds one of the containers ``ids`` (found anywhere inside it)."""
    if id(value) in ids:
        return True
    if isinstance(value, BaseModel):
        extra = value.__pydantic_extra__ or {}
        return any(_shares(v, ids) for v in (*vars(value).values(), *extra.values()))
    if isinstance(value, dict):
        return any(_shares(k, ids) or _shares(v, ids) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_shares(v, ids) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_shares(v, ids) for v in vars(value).values())
    return False


class LazyPlans:
    """Plans for the items of a stored list (a stream's chunks), each prepared on first use."""

    __slots__ = ("_items", "_options", "_plans")

    def __init__(self, items: list[Any], trusted_modules: Iterable[str], strict: bool) -> None:
        self._items = items
        self._plans: list[Plan | None] = [None] * len(items)
        self._options = (tuple(trusted_modules), strict)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> Plan:
        found = self._plans[i]
        if found is None:
            trusted, strict = self._options
            found = self._plans[i] = plan(
                self._items[i], trusted_modules=trusted, strict_types=strict
            )
        return found
