"""Whether a value validated from a stored payload holds any of the payload's dicts or lists.

A replay plan (:mod:`apirec.codec.replay_plans`) validates the stored payload itself, per
replay, only for a value proved to hold none of it: pydantic keeps a payload's dicts by
reference under ``Any``, in ``extra`` values, and inside many containers (an
``OrderedDict[str, Any]``, a ``deque``, a ``NamedTuple``...), and a caller editing what one
replay returned must never change what the next one returns. What cannot be proved counts as
sharing: the plan then validates a fresh copy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

IMMUTABLE = frozenset(
    {str, int, float, bool, type(None), bytes, Decimal, UUID}
    | {dt.datetime, dt.date, dt.time, dt.timedelta}
)
_LEAVES = frozenset({complex, dt.timezone})
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class statement's, not a C type (deque, dict...)


def container_ids(data: Any) -> set[int]:
    """The ids of every dict and list in JSON data."""
    ids: set[int] = set()
    stack = [data]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            ids.add(id(v))
            stack.extend(v.values())
        elif t is list:
            ids.add(id(v))
            stack.extend(v)
    return ids


def shares(value: Any, ids: set[int]) -> bool:
    """Whether ``value`` may hold one of the containers ``ids``: True unless proved otherwise.

    Only what it knows exactly is looked into: dicts, lists, tuples, sets, models and
    dataclasses (their ``__dict__`` and slots). Anything else (a deque, an OrderedDict, a
    NamedTuple, any other subclass of a container, an object of a type it does not know) may
    hold a payload's dict: it counts as sharing.
    """
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t in IMMUTABLE or t in _LEAVES:
            continue
        if id(v) in ids:
            return True
        if t is list or t is tuple or t is set or t is frozenset:
            stack.extend(v)
        elif t is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, Enum):
            continue  # a member of its class, never built from the payload
        elif _walkable(t):
            stack.extend(_attributes(v))
        else:
            return True
    return False


_WALKABLE: dict[type, bool] = {}


def _walkable(cls: type) -> bool:
    """Whether all an instance of ``cls`` holds is in its ``__dict__`` and slots: a model or
    a dataclass whose classes are all Python's, but ``object`` (not a dict or deque subclass)."""
    known = _WALKABLE.get(cls)
    if known is None:
        known = (issubclass(cls, BaseModel) or dataclasses.is_dataclass(cls)) and all(
            k is object or k.__flags__ & _HEAP_TYPE for k in cls.__mro__
        )
        if len(_WALKABLE) < 1024:
            _WALKABLE[cls] = known
    return known


def _attributes(obj: Any) -> list[Any]:
    """What ``obj`` holds as attributes: its ``__dict__`` (as one dict), if it has one (a
    slots dataclass has none), and the values of its slots."""
    found: list[Any] = []
    with contextlib.suppress(AttributeError):
        found.append(object.__getattribute__(obj, "__dict__"))
    for name in _slot_names(type(obj)):
        with contextlib.suppress(AttributeError):  # a slot never set
            found.append(object.__getattribute__(obj, name))
    return found


_SLOTS: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    """The attribute names of every ``__slots__`` of ``cls``'s classes (mangled as Python
    stores them), but ``__dict__`` and ``__weakref__``."""
    known = _SLOTS.get(cls)
    if known is not None:
        return known
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"
            names.append(name)
    if len(_SLOTS) < 1024:
        _SLOTS[cls] = tuple(names)
    return tuple(names)
