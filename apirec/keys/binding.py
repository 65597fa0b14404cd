"""Binding: a call's positional and keyword arguments mapped to parameter names.

Pure code. ``inspect.Signature.bind`` is too slow per call, so each function's parameter
layout (with and without self/cls) is computed once and cached; :class:`Binding` maps a call
with it, leaving out self/cls and arguments equal to their defaults.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from apirec.errors import called

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class _Params:
    """Parameter layout of one function, precomputed for fast binding."""

    def __init__(self, params: list[inspect.Parameter], *, check_required: bool = True) -> None:
        self.positional = [p.name for p in params if p.kind in _POSITIONAL]
        self.keyword = {
            p.name for p in params if p.kind is not inspect.Parameter.POSITIONAL_ONLY
        } & {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        self.var_positional = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
        var_keyword = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
        self.var_keyword = var_keyword is not None
        # Keywords that go to **kwargs although a parameter has that name (positional-only
        # ones, the *args one): bound under "**<kwargs name>" so that ``send("/x", path="a")``
        # and ``log(args=[1, 2])`` keep their own keys, apart from ``log(1, 2)``.
        self.shadow_slot = f"**{var_keyword}"
        self.shadowed = frozenset(
            [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)]
            + [self.shadow_slot]  # reachable too: f(**{"**kwargs": 1})
        )
        self.defaults = {p.name: p.default for p in params if p.default is not _EMPTY}
        self.required = tuple(
            p.name
            for p in params
            if check_required
            and p.default is _EMPTY
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )


@functools.lru_cache(maxsize=512)
def _cached_signature(raw: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(raw)


def signature(func: Callable[..., Any]) -> inspect.Signature:
    """``inspect.signature(func)``, worked out once per function (a Signature is immutable):
    an integration patched into every test checks and binds the same SDK methods each time."""
    try:
        hash(func)
    except TypeError:  # an unhashable callable: not cached
        return inspect.signature(func)
    return _cached_signature(func)


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
    # Through decorators (``__wrapped__``) the signature may list parameters the decorator
    # supplies itself or checks its own way (openai's ``required_args``): not enforced there.
    own = inspect.unwrap(raw) is raw
    return (
        _Params(params, check_required=own),
        (_Params(params[1:], check_required=own) if has_self else None),
    )


def _defined_in_class_with_self(raw: Callable[..., Any]) -> bool:
    """A function written in a class body whose first parameter is ``self``."""
    parts = getattr(inspect.unwrap(raw), "__qualname__", "").split(".")
    if len(parts) < 2 or parts[-2] == "<locals>":
        return False
    try:
        first = next(iter(signature(raw).parameters.values()), None)
    except (TypeError, ValueError):
        return False
    return first is not None and first.name == "self" and first.kind in _POSITIONAL


def _same_as_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except Exception:
        return False


class Binding:
    """One function's parameter layouts, and :meth:`bind` to map its calls with them."""

    def __init__(self, func: Callable[..., Any], *, name: str) -> None:
        self.name = name
        raw = getattr(func, "__func__", func)
        # classmethods and bound methods never pass cls/self in ``args``; their raw signature has
        # it. A method under another decorator (``@retry`` above ``@apirec.record``, a patched
        # property's getter) is called unbound, with self as its first argument: never keyed.
        self._is_static = isinstance(func, staticmethod)
        self._always_drop = isinstance(func, classmethod) or inspect.ismethod(func)
        self._unbound_self = not self._is_static and _defined_in_class_with_self(raw)
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
        if not drop_first and self._unbound_self and args:
            args, drop_first = args[1:], True  # self came as the first argument
        layout = self._without_self if drop_first and self._without_self else self._with_self
        if not args and layout.keyword.issuperset(kwargs):
            bound = dict(kwargs)  # keywords only, each a parameter's: an SDK's call, in C
        else:
            bound = self._bind_all(layout, args, kwargs)
        for name in layout.required:
            if name not in bound:  # the real call would fail: so does the key, before it
                missing = [r for r in layout.required if r not in bound]
                raise TypeError(
                    f"{called(self.name)} missing {len(missing)} required argument(s): "
                    + ", ".join(repr(m) for m in missing)
                )
        defaults = layout.defaults
        if defaults:
            same: list[str] = []
            for k, v in bound.items():
                # the type test inline: most values are not of their default's type (an SDK's
                # NOT_GIVEN), and a call of _same_as_default per argument shows per call
                d = defaults.get(k, _EMPTY)
                if d is not _EMPTY and type(v) is type(d) and _same_as_default(v, d):
                    same.append(k)
            for k in same:
                del bound[k]
        return bound

    def _bind_all(
        self, layout: _Params, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Positional arguments, ``*args``, ``**kwargs`` and the names they shadow."""
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
                    f"{called(self.name)} takes {n} positional arguments but {len(args)} were given"
                )
            bound[layout.var_positional] = extra
        for k, value in kwargs.items():
            if k in layout.keyword:
                if k in bound:
                    raise TypeError(f"{called(self.name)} got multiple values for argument {k!r}")
                bound[k] = value
            elif not layout.var_keyword:
                raise TypeError(f"{called(self.name)} got an unexpected keyword argument {k!r}")
            elif k in layout.shadowed:
                bound.setdefault(layout.shadow_slot, {})[k] = value
            else:
                bound[k] = value
        return bound
