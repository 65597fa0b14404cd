"""Canonical arguments and keys: when two calls are "the same" (DESIGN §3).

Pure code: no filesystem, no SDK. A :class:`KeySpec` is built once per recorded function; it
binds a call's arguments to parameter names without ``inspect.Signature.bind`` (too slow per
call), turns the values into plain data and hashes them with xxh3_128 over msgpack bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import msgpack
import xxhash
from pydantic import BaseModel

from .errors import UnhashableArgument

if TYPE_CHECKING:
    from .keying import Keying

REDACTED = "<redacted>"

# Names (lower case, "-" read as "_") that hold credentials. Matched against parameter names
# and against dict keys at any depth. Deliberately exact: "max_tokens" is not a secret.
DEFAULT_SECRET_NAMES = frozenset(
    {
        "api_key", "apikey", "x_api_key", "api_token", "access_token", "refresh_token",
        "id_token", "auth_token", "bearer_token", "session_token", "token", "authorization",
        "proxy_authorization", "password", "passwd", "secret", "client_secret", "secret_key",
        "private_key", "cookie", "set_cookie", "credentials", "x_goog_api_key",
        "ocp_apim_subscription_key",
    }
)  # fmt: skip
SECRET_SUFFIXES = ("_api_key", "_secret", "_password", "_access_token", "_auth_token")

Normalizer = Callable[[dict[str, Any]], Mapping[str, Any]]


def _norm_name(name: str) -> str:
    return name.lower().replace("-", "_")


def is_secret_name(name: str, extra: frozenset[str] = frozenset()) -> bool:
    low = _norm_name(name)
    return low in DEFAULT_SECRET_NAMES or low in extra or low.endswith(SECRET_SUFFIXES)


class _Redacted:
    """Marks a value removed for secrecy: dropped from the key, stored as ``"<redacted>"``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return REDACTED


_REDACTED = _Redacted()

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
        self._secrets: dict[str, bool] = {}  # name -> is a secret; names repeat call after call
        self._shapes: dict[tuple[Any, ...], list[str] | None] = {}  # see plain()

    def _secret(self, name: str) -> bool:
        secret = self._secrets.get(name)
        if secret is None:
            secret = is_secret_name(name, self.redact_names)
            if len(self._secrets) < 4096:
                self._secrets[name] = secret
        return secret

    def _order(self, shape: tuple[Any, ...]) -> list[str] | None:
        try:
            order: list[str] | None = sorted(shape)
        except TypeError:  # mixed key types: the full path sorts those
            order = None
        if order is not None and any(type(k) is not str or self._secret(k) for k in order):
            order = None
        if len(self._shapes) < 1024:
            self._shapes[shape] = order
        return order

    def plain(self, value: Any) -> Any:
        """The fast path for JSON-like data, same result as :meth:`value` or :class:`_Slow`.

        No paths are built (they only serve error messages); a key that is a secret hands
        over to the full path.
        """
        t = type(value)
        if t is str or t is int or t is bool or value is None:
            return value
        if t is float:
            return self._float(value)
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
            out = {}
            for k in order:
                v = value[k]
                tv = type(v)  # scalars inline: most nodes are leaves
                if tv is str or tv is int or tv is bool or v is None:
                    out[k] = v
                else:
                    out[k] = self._float(v) if tv is float else self.plain(v)
            return out
        if t is list or t is tuple:
            if t is tuple and len(value) == 2 and type(value[0]) is str and self._secret(value[0]):
                raise _Slow  # a header pair to redact: ("Authorization", "Bearer ...")
            items = []
            for v in value:
                tv = type(v)
                if tv is str or tv is int or tv is bool or v is None:
                    items.append(v)
                else:
                    items.append(self._float(v) if tv is float else self.plain(v))
            return items
        raise _Slow

    def value(
        self, value: Any, where: str, ignore: PathTree | None, redact: PathTree | None
    ) -> Any:
        t = type(value)
        if t is str or t is int or t is bool or value is None:
            return value
        if t is float:
            return self._float(value)
        if t is dict or isinstance(value, Mapping):
            return self._mapping(value, where, ignore, redact)
        if t is tuple and len(value) == 2 and type(value[0]) is str and self._secret(value[0]):
            return [value[0], _REDACTED]  # a header pair: ("Authorization", "Bearer ...")
        if t is list or t is tuple:
            return [self.value(v, f"{where}[{i}]", None, None) for i, v in enumerate(value)]
        return self._other(value, where)

    def _float(self, value: float) -> float:
        if math.isfinite(value):
            rounded = round(value, self.float_digits)
            return rounded + 0.0  # folds -0.0 into 0.0
        return value

    def _mapping(
        self, value: Mapping[Any, Any], where: str, ignore: PathTree | None, redact: PathTree | None
    ) -> dict[str, Any]:
        items: list[tuple[str, Any]] = []
        for k, v in value.items():
            name = k if type(k) is str else self._key_name(k, where)
            low = _norm_name(name) if (ignore or redact) else ""
            sub_ignore = ignore.get(low) if ignore else None
            if sub_ignore is not None and not sub_ignore:
                continue  # ignored leaf
            sub_redact = redact.get(low) if redact else None
            if (sub_redact is not None and not sub_redact) or self._secret(name):
                items.append((name, _REDACTED))
                continue
            items.append((name, self.value(v, f"{where}.{name}", sub_ignore, sub_redact)))
        items.sort(key=lambda kv: kv[0])
        return dict(items)

    def _key_name(self, key: Any, where: str) -> str:
        canon = self.value(key, f"{where}<key>", None, None)
        if isinstance(canon, str | int | float | bool) or canon is None:
            return str(canon)
        raise UnhashableArgument(
            f"dict key {key!r} at {where} has no canonical form as a string",
            parameter=where,
            type_name=_type_name(key),
        )

    def _other(self, value: Any, where: str) -> Any:
        if isinstance(value, Enum):
            return self.value(value.value, where, None, None)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bool | int):
            return int(value)
        if isinstance(value, float):
            return self._float(float(value))
        if isinstance(value, BaseModel):
            return self.value(value.model_dump(mode="json", warnings=False), where, None, None)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self._mapping(fields, where, None, None)
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, dt.timedelta):
            return value.total_seconds()
        if isinstance(value, uuid.UUID | Decimal | PurePath):
            return str(value)
        if isinstance(value, set | frozenset):
            members = [self.value(v, f"{where}{{}}", None, None) for v in value]
            return sorted(members, key=_packb)
        if isinstance(value, list | tuple):
            return [self.value(v, f"{where}[{i}]", None, None) for i, v in enumerate(value)]
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


def without_redacted(value: Any) -> Any:
    """The key view: redacted entries removed."""
    if type(value) is dict:
        return {k: without_redacted(v) for k, v in value.items() if v is not _REDACTED}
    if type(value) is list:
        return [without_redacted(v) for v in value if v is not _REDACTED]
    return value


def with_placeholders(value: Any) -> Any:
    """The stored view: redacted entries replaced by ``"<redacted>"``."""
    if value is _REDACTED:
        return REDACTED
    if type(value) is dict:
        return {k: with_placeholders(v) for k, v in value.items()}
    if type(value) is list:
        return [with_placeholders(v) for v in value]
    return value


def _contains_redacted(value: Any) -> bool:
    if value is _REDACTED:
        return True
    if type(value) is dict:
        return any(_contains_redacted(v) for v in value.values())
    if type(value) is list:
        return any(_contains_redacted(v) for v in value)
    return False


def compute_key(name: str, arguments: Mapping[str, Any], scope: str | None) -> str:
    """xxh3_128 over msgpack bytes of ``[name, arguments, scope]``: 32 hex digits."""
    try:
        packed = msgpack.packb([name, arguments, scope or ""], use_bin_type=True)
    except OverflowError:  # integers beyond 64 bits: msgpack has no type for them
        packed = msgpack.packb([name, _big_ints_as_text(arguments), scope or ""], use_bin_type=True)
    return xxhash.xxh3_128_hexdigest(packed)


def _big_ints_as_text(value: Any) -> Any:
    if type(value) is int and not -(2**63) <= value < 2**64:
        return f"int:{value}"
    if type(value) is dict:
        return {k: _big_ints_as_text(v) for k, v in value.items()}
    if type(value) is list:
        return [_big_ints_as_text(v) for v in value]
    return value


_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class _Params:
    """Parameter layout of one function, precomputed for fast binding."""

    def __init__(self, params: list[inspect.Parameter]) -> None:
        self.positional = [p.name for p in params if p.kind in _POSITIONAL]
        self.keyword = {
            p.name for p in params if p.kind is not inspect.Parameter.POSITIONAL_ONLY
        } & {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        self.var_positional = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
        self.var_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
        self.defaults = {p.name: p.default for p in params if p.default is not _EMPTY}


@functools.lru_cache(maxsize=512)
def _layouts(raw: Callable[..., Any]) -> tuple[_Params, _Params | None]:
    """Parameter layouts with and without self, per function: ``rec.patch`` of a method with
    dozens of parameters (openai's ``create``) in every test would otherwise redo this."""
    try:
        params = list(inspect.signature(raw).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        params = [
            inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
            inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
        ]
    has_self = bool(params) and params[0].kind in _POSITIONAL
    return _Params(params), (_Params(params[1:]) if has_self else None)


def _same_as_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except Exception:
        return False


class KeySpec:
    """Everything needed to turn one function's calls into canonical arguments and a key."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str,
        ignore: Iterable[str] = (),
        redact: Iterable[str] = (),
        normalize: Normalizer | None = None,
        shared: bool = False,
        float_digits: int = 6,
        keying: Keying | None = None,
    ) -> None:
        self.name = name
        self.normalize = normalize
        self.shared = shared
        # another format's keys and file names instead of apirec's (see apirec.keying)
        self.keying = keying
        ignore = list(ignore)
        self._ignored_params = frozenset(i for i in ignore if "." not in i)
        self._canon = Canonicalizer(
            float_digits=float_digits, ignore=[i for i in ignore if "." in i], redact=redact
        )
        raw = getattr(func, "__func__", func)
        # classmethods and bound methods never pass cls/self in ``args``; their raw signature has it
        self._always_drop = isinstance(func, classmethod) or inspect.ismethod(func)
        self._is_static = isinstance(func, staticmethod)
        self._func = raw
        try:
            self._with_self, self._without_self = _layouts(raw)
        except TypeError:  # an unhashable callable: not cached
            self._with_self, self._without_self = _layouts.__wrapped__(raw)

    def bind(
        self, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Map a call to ``{parameter: value}``, leaving out self/cls and default values."""
        # wrapt hands over self/cls as ``instance`` for methods; the signature still has it.
        drop_first = self._always_drop or (instance is not None and not self._is_static)
        layout = self._without_self if drop_first and self._without_self else self._with_self
        bound: dict[str, Any] = {}
        positional = layout.positional
        n = len(positional)
        extra: list[Any] = []
        for i, value in enumerate(args):
            if i < n:
                bound[positional[i]] = value
            else:
                extra.append(value)
        if extra:
            if layout.var_positional is None:
                raise TypeError(
                    f"{self.name}() takes {n} positional arguments but {len(args)} were given"
                )
            bound[layout.var_positional] = extra
        for k, value in kwargs.items():
            if k in bound:
                raise TypeError(f"{self.name}() got multiple values for argument {k!r}")
            if k not in layout.keyword and not layout.var_keyword:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {k!r}")
            bound[k] = value
        defaults = layout.defaults
        if defaults:
            for k, v in list(bound.items()):
                if k in defaults and _same_as_default(v, defaults[k]):
                    del bound[k]
        return bound

    def canonical(self, bound: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(for_key, for_store)`` views of the canonical arguments."""
        canon = self._canon
        ignored = self._ignored_params
        items: dict[str, Any] = {}
        redacted = False
        paths = canon.ignore or canon.redact_paths
        for name in sorted(bound):
            if name in ignored:
                continue
            if canon._secret(name):
                items[name] = _REDACTED
                redacted = True
                continue
            low = _norm_name(name) if paths else ""
            sub_ignore = canon.ignore.get(low) if paths else None
            sub_redact = canon.redact_paths.get(low) if paths else None
            if sub_redact is not None and not sub_redact:
                items[name] = _REDACTED
                redacted = True
                continue
            if sub_ignore is None and sub_redact is None:
                try:
                    items[name] = canon.plain(bound[name])
                    continue
                except (_Slow, TypeError):
                    pass
            value = items[name] = canon.value(bound[name], name, sub_ignore, sub_redact)
            redacted = redacted or _contains_redacted(value)
        if redacted:
            for_key: dict[str, Any] = without_redacted(items)
            for_store: dict[str, Any] = with_placeholders(items)
        else:
            for_key = for_store = items
        if self.normalize is not None:
            for_key = dict(self.normalize(dict(for_key)))
            for_store = for_key if for_store is items else dict(self.normalize(dict(for_store)))
        return for_key, for_store

    def key(self, arguments: Mapping[str, Any], scope: str | None) -> str:
        return compute_key(self.name, arguments, None if self.shared else scope)
