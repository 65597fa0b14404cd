"""Canonical values: argument values turned into plain, hashable, storable data (DESIGN §3).

Pure code: no SDK, and no filesystem but files given as arguments (:mod:`apirec.keys.files`).
:class:`Canonicalizer` rounds floats, sorts mappings, drops ignored dotted paths and the SDKs'
not-given sentinels, and redacts secrets (by the one names rule of :mod:`apirec.gate.names`,
anywhere, or at a dotted path; paths go through models, dataclasses, list items and header
pairs); its :meth:`~Canonicalizer.plain` fast path handles JSON-like data without building
paths. Redacted values are marked (:mod:`apirec.keys.marks`), then dropped from the key view
and shown as ``"<redacted>"`` in the stored view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

import msgpack
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from apirec.errors import UnhashableArgument
from apirec.gate.names import context_of, is_secret_name, is_secret_value, norm
from apirec.keys.files import file_key, is_file_object, path_key
from apirec.keys.functions import (
    dump_model_with_functions,
    function_schema,
    is_schema_type,
    is_tool_function,
    type_schema,
)
from apirec.keys.marks import _OMITTED, _REDACTED, HugeInt, _contains_marks
from apirec.keys.named_tuples import named_tuple_items
from apirec.keys.sentinels import is_not_given

_norm_name = norm

# a dict shape's keys in order, and those holding headers or query parameters (their context)
_Order = tuple[list[str], dict[str, str]]

_SMALL, _SMALL_MIN = 2**64, -(2**63)  # what msgpack packs as an int


def _big_int(value: int) -> int | HugeInt:
    try:
        str(value)  # Python's int-to-text limit (sys.set_int_max_str_digits)
    except ValueError:
        return HugeInt(value)
    return value


def _is_pair(value: Any) -> bool:
    t = type(value)
    return (t is tuple or t is list) and len(value) == 2 and isinstance(value[0], str)


def _key_order(item: tuple[Any, Any]) -> tuple[bool, str, Any]:
    key = item[0]  # str keys first, in their order; others grouped by type
    return (type(key) is not str, type(key).__name__, key)


# A path tree: {"extra_headers": {"authorization": {}}}; an empty dict marks a leaf.
PathTree = dict[str, "PathTree"]


def _path_tree(paths: Iterable[str]) -> PathTree:
    tree: PathTree = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            node = node.setdefault(_norm_name(part), {})
    return tree


class _Slow(Exception):
    """The fast path met something it does not handle: this argument takes the full path."""


class Canonicalizer:
    """Turns argument values into plain, hashable, storable data."""

    def __init__(
        self,
        *,
        float_digits: int = 6,
        ignore: Iterable[str] = (),
        redact: Iterable[str] = (),
    ) -> None:
        self.float_digits = float_digits
        self.ignore = _path_tree(ignore)
        redact = list(redact)
        # Plain names redact a key anywhere; dotted names only at that path.
        self.redact_names = frozenset(_norm_name(r) for r in redact if "." not in r)
        self.redact_paths = _path_tree(r for r in redact if "." in r)
        # (name, context) -> is a secret; names repeat call after call
        self._secrets: dict[str | tuple[str, str], bool] = {}
        self._shapes: dict[tuple[Any, ...], _Order | None] = {}  # see plain()
        self._floats: dict[float, float] = {}  # see _float()

    def _secret(self, name: str, context: str | None = None) -> bool:
        """The one names rule (:mod:`apirec.gate.names`), plus the user's ``redact=``."""
        cached = name if context is None else (name, context)
        secret = self._secrets.get(cached)
        if secret is None:
            secret = is_secret_name(name, context) or _norm_name(name) in self.redact_names
            if len(self._secrets) < 4096:
                self._secrets[cached] = secret
        return secret

    def _order(self, shape: tuple[Any, ...]) -> _Order | None:
        """How :meth:`plain` visits a dict of this shape: its keys in order, and those that
        hold headers or query parameters (a tool schema's ``"query"`` property is common: its
        value takes the full path, the rest of the dict stays fast); None when a key is a
        secret or not a string."""
        try:
            keys: list[str] = sorted(shape)
        except TypeError:  # mixed key types: the full path sorts those
            keys = []
            order: _Order | None = None
        else:
            order = (keys, {k: c for k in keys if (c := context_of(k))})
        if order is not None and any(type(k) is not str or self._secret(k) for k in keys):
            order = None  # a secret: the full path
        if len(self._shapes) < 1024:
            self._shapes[shape] = order
        return order

    def plain(self, value: Any) -> Any:
        """The fast path for JSON-like data, same result as :meth:`value` or :class:`_Slow`.

        No paths are built (they only serve error messages); a key that is a secret, or that
        holds headers or query parameters, hands over to the full path.
        """
        t = type(value)  # containers first: the loops below handle scalars inline
        if t is dict:
            # The order to visit a dict's keys in, per shape: None when a key is a secret or
            # not a string. Dicts of one shape recur call after call (messages, tool schemas).
            shape = tuple(value)
            try:
                order = self._shapes[shape]
            except KeyError:
                order = self._order(shape)
            if order is None:
                raise _Slow
            keys, contexts = order
            if contexts:
                return self._plain_dict(value, keys, contexts)
            out = {}
            for k in keys:
                v = value[k]
                tv = type(v)  # scalars inline: most nodes are leaves
                if tv is str or tv is bool or v is None or (tv is int and _SMALL_MIN <= v < _SMALL):
                    out[k] = v
                else:
                    out[k] = self._float(v) if tv is float else self.plain(v)
            return out
        if t is list or t is tuple:
            if len(value) == 2 and type(value[0]) is str:
                secret = self._secrets.get(value[0])  # _secret's cache, without its frame
                if secret or (secret is None and self._secret(value[0])):
                    raise _Slow  # maybe a header pair to redact: ("Authorization", "Bearer ...")
            items = []
            for v in value:
                tv = type(v)
                if tv is str or tv is bool or v is None or (tv is int and _SMALL_MIN <= v < _SMALL):
                    items.append(v)
                else:
                    items.append(self._float(v) if tv is float else self.plain(v))
            return items
        if t is str or t is bool or value is None or (t is int and _SMALL_MIN <= value < _SMALL):
            return value
        if t is float:
            return self._float(value)
        raise _Slow

    def _plain_dict(self, value: dict[str, Any], keys: list[str], contexts: dict[str, str]) -> Any:
        """:meth:`plain` of a dict some of whose keys hold headers or query parameters."""
        out = {}
        for k in keys:
            v = value[k]
            if k in contexts:  # as the full path does, unless it marks
                sub = self.value(v, k, None, None, contexts[k])
                if _contains_marks(sub):
                    raise _Slow
                out[k] = sub
            else:
                out[k] = self.plain(v)
        return out

    def value(
        self,
        value: Any,
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> Any:
        """``value`` as plain data; ``ignore``/``redact`` are the path trees below ``where``;
        ``context``: what its entries are (headers, query parameters: see
        :mod:`apirec.gate.names`).

        Paths go through models, dataclasses, every item of a list and header pairs.
        """
        t = type(value)
        if t is str or t is bool or value is None:
            return value
        if t is int:
            return value if _SMALL_MIN <= value < _SMALL else _big_int(value)
        if t is float:
            return self._float(value)
        if t is dict or isinstance(value, Mapping):
            return self._mapping(value, where, ignore, redact, context)
        if t is list or t is tuple:
            return self._sequence(value, where, ignore, redact, context)
        return self._other(value, where, ignore, redact, context)

    def _sequence(
        self,
        value: Any,
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> list[Any]:
        if (
            type(value) is tuple
            and _is_pair(value)
            and self._secret(value[0], context)
            and is_secret_value(value[0], value[1])
        ):
            return [value[0], _REDACTED]  # a header pair: ("Authorization", "Bearer ...")
        if value and all(_is_pair(v) for v in value):
            return self._pairs(value, where, ignore, redact, context)
        items = []
        for i, v in enumerate(value):
            item = self.value(v, f"{where}[{i}]", ignore, redact, context)
            if item is not _OMITTED:
                items.append(item)
        return items

    def _pairs(
        self,
        value: Any,
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> list[Any]:
        """Header pairs, ``[("Authorization", "Bearer ..."), ...]``: named like a dict's items."""
        pairs = []
        for k, v in value:
            name = k if type(k) is str else str(self._dict_key(k, where))
            canon = self._entry(name, v, f"{where}.{name}", ignore, redact, context)
            if canon is not _OMITTED:
                pairs.append([name, canon])
        return pairs

    def _entry(
        self,
        name: str,
        v: Any,
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> Any:
        """The canonical value of a dict entry or header pair named ``name`` (in a container
        of ``context``)."""
        low = _norm_name(name) if (ignore or redact) else ""
        sub_ignore = ignore.get(low) if ignore else None
        if sub_ignore is not None and not sub_ignore:
            return _OMITTED  # ignored leaf
        sub_redact = redact.get(low) if redact else None
        if (sub_redact is not None and not sub_redact) or (
            self._secret(name, context) and is_secret_value(name, v)
        ):
            return _OMITTED if is_not_given(v) else _REDACTED
        return self.value(v, where, sub_ignore, sub_redact, context_of(name))

    def _plain_at(self, value: Any, where: str) -> Any:
        return self.value(value, where, None, None)

    def _float(self, value: float) -> float:
        cached = self._floats.get(value)  # round() with digits costs ~0.4 µs: memoized
        if cached is not None:
            return cached
        if not math.isfinite(value):
            return value
        rounded = round(value, self.float_digits) + 0.0  # + 0.0 folds -0.0 into 0.0
        # Only values a person sets (temperature=0.7), which recur call after call; not the
        # many digits of a vector, which would fill the table with values seen once.
        if rounded == value and len(self._floats) < 1024:
            self._floats[value] = rounded
        return rounded

    def _mapping(
        self,
        value: Mapping[Any, Any],
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> dict[Any, Any]:
        items: list[tuple[Any, Any]] = []
        for k, v in value.items():
            # Other keys stay what they are, so {1: x} and {"1": x} are two calls; paths
            # and secret names see them as text.
            key = k if type(k) is str else self._dict_key(k, where)
            name = key if type(key) is str else str(key)
            canon = self._entry(name, v, f"{where}.{name}", ignore, redact, context)
            if canon is not _OMITTED:
                items.append((key, canon))
        items.sort(key=_key_order)
        return dict(items)

    def _dict_key(self, key: Any, where: str) -> Any:
        canon = self.value(key, f"{where}<key>", None, None)
        if isinstance(canon, str | int | float | bool | bytes) or canon is None:
            return canon
        raise UnhashableArgument(
            f"dict key {key!r} at {where} has no canonical form as a scalar",
            parameter=where,
            type_name=_type_name(key),
        )

    def _other(
        self,
        value: Any,
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> Any:
        if isinstance(value, Enum):
            return self.value(value.value, where, None, None)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bool | int):
            return self.value(int(value), where, None, None)
        if isinstance(value, float):
            return self._float(float(value))
        if isinstance(value, BaseModel):
            try:
                dumped = value.model_dump(mode="json", warnings=False)
            except PydanticSerializationError:  # functions as tools in it: see keys.functions
                dumped = dump_model_with_functions(value, self._plain_at, where)
            return self.value(dumped, where, ignore, redact, context)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self._mapping(fields, where, ignore, redact, context)
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, dt.timedelta):
            return value.total_seconds()
        if isinstance(value, PurePath):  # a file by its name and content (keys.files)
            return self.value(path_key(value, where), where, None, None)
        if is_file_object(value):
            return self.value(file_key(value, where), where, None, None)
        if isinstance(value, uuid.UUID | Decimal):
            return str(value)
        if isinstance(value, set | frozenset):
            members = [self.value(v, f"{where}{{}}", None, None) for v in value]
            return sorted((m for m in members if m is not _OMITTED), key=_packb)
        if isinstance(value, list | tuple):
            named = named_tuple_items(self, value, where, ignore, redact, context)
            return self._sequence(value, where, ignore, redact, context) if named is None else named
        if is_not_given(value):
            return _OMITTED
        if is_tool_function(value):  # a tool: keyed by its schema, not its identity
            return self.value(function_schema(value, self._plain_at, where), where, None, None)
        if is_schema_type(value):  # a response schema given as a type
            return self.value(type_schema(value), where, None, None)
        raise UnhashableArgument(
            f"argument {where!r} of type {_type_name(value)} has no canonical form, so apirec "
            f"cannot compute a stable key for this call. Leave it out with "
            f"ignore=[{where.split('.')[0].split('[')[0]!r}], or turn it into plain data with "
            f"normalize=...",
            parameter=where,
            type_name=_type_name(value),
        )


def _type_name(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}"


def _packb(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]
