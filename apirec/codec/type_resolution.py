"""Safe type resolution for decoding: a recording file is data from a pull request, not code.

A ``"module.QualName"`` is turned into a class only when

* it is registered with :func:`register_type`, or is one of the built-in value types; or
* its top-level package is already imported by this process (the code under test imported
  ``openai``, so ``openai.types.chat.chat_completion_chunk`` may be imported), or is listed in
  ``trusted_modules``, or is apirec itself; and the object found is a pydantic model, a
  dataclass, an enum or (for recorded errors) an exception class.

Nothing is evaluated or unpickled; nothing else is imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

from pydantic import BaseModel


@dataclass(frozen=True)
class RegisteredType:
    cls: type
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


class TypeRegistry:
    """User types added with :func:`apirec.register_type`, by ``module.QualName``."""

    def __init__(self) -> None:
        self._by_name: dict[str, RegisteredType] = {}
        self._by_class: dict[type, RegisteredType] = {}
        self._lock = threading.Lock()

    def add(self, cls: type, encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> None:
        entry = RegisteredType(cls, encode, decode)
        with self._lock:
            self._by_name[type_name(cls)] = entry
            self._by_class[cls] = entry

    def for_class(self, cls: type) -> RegisteredType | None:
        return self._by_class.get(cls) if self._by_class else None

    def for_name(self, name: str) -> RegisteredType | None:
        return self._by_name.get(name)


REGISTRY = TypeRegistry()


def type_name(cls: type) -> str:
    # A parametrised pydantic generic (openai's SyncPage[Model]) is named after its origin
    # and arguments; its own __module__ is wherever it was first parametrised.
    meta = getattr(cls, "__pydantic_generic_metadata__", None)
    if meta and meta.get("origin") is not None and meta.get("args"):
        return f"{type_name(meta['origin'])}[{_arg_names(meta['args'])}]"
    return f"{cls.__module__}.{cls.__qualname__}"


_BUILTIN_GENERICS = {type_name(t): t for t in (list, dict, tuple, set, frozenset)}
_UNION = "typing.Union"


def _arg_names(args: Iterable[Any]) -> str:
    return ", ".join(_arg_name(a) for a in args)


def _arg_name(arg: Any) -> str:
    """A generic model's argument: a class, or ``list[X]``, ``dict[str, X]``, ``X | None``
    (a ``RootModel[list[Item]]``), spelled with full names so :func:`resolve` can read it."""
    origin = get_origin(arg)
    if origin in (typing.Union, types.UnionType):
        return f"{_UNION}[{_arg_names(get_args(arg))}]"
    if origin in (list, dict, tuple, set, frozenset) and get_args(arg):
        return f"{type_name(origin)}[{_arg_names(get_args(arg))}]"
    if isinstance(arg, typing.TypeVar):
        return _type_variable_name(arg)
    return type_name(arg) if isinstance(arg, type) else repr(arg)


def _type_variable_name(variable: typing.TypeVar) -> str:
    """``~module.Name`` for a type variable defined at the top of its module (openai's
    ``ParsedChatCompletion[ResponseFormatT]``), so the very class is parametrised again on
    replay; ``~Name`` (the origin's own variable in that place) for any other."""
    module = sys.modules.get(getattr(variable, "__module__", "") or "")
    if module is not None and getattr(module, variable.__name__, None) is variable:
        return f"~{module.__name__}.{variable.__name__}"
    return repr(variable)


class Unresolvable(Exception):
    """Why a type name could not be turned into a class; ``allowed`` tells the two cases apart."""

    def __init__(self, reason: str, *, allowed: bool) -> None:
        super().__init__(reason)
        self.allowed = allowed


def is_buildable(obj: object) -> bool:
    return isinstance(obj, type) and (
        issubclass(obj, BaseModel | Enum | BaseException) or dataclasses.is_dataclass(obj)
    )


_resolved: dict[str, type] = {}
# Classes the call being replayed was given (openai's ``.parse(response_format=Answer)``), by
# name: live objects of the process, so safe; they stand for classes that cannot be imported,
# such as one defined inside a test function (``test_x.<locals>.Answer``).
_given: ContextVar[dict[str, type] | None] = ContextVar("apirec_given_types", default=None)


@contextlib.contextmanager
def given_types(classes: Iterable[type]) -> Iterator[None]:
    """Within the block, the names of ``classes`` resolve to them."""
    token = _given.set({type_name(cls): cls for cls in classes})
    try:
        yield
    finally:
        _given.reset(token)


def resolve(name: str, trusted_modules: Iterable[str] = ()) -> type:
    """Return the class called ``name`` or raise :class:`Unresolvable`."""
    cls = _resolved.get(name)
    if cls is not None:
        return cls
    given = _given.get()
    if given:
        cls = given.get(name)
        if cls is not None:
            return cls
    if name.endswith("]") and "[" in name:
        return _resolve_generic(name, trusted_modules)
    module_path, _, qualname = name.rpartition(".")
    top = name.split(".", 1)[0]
    if not module_path or not qualname:
        raise Unresolvable(f"{name!r} is not a 'module.QualName' type name", allowed=False)
    if top not in sys.modules and not _trusted(name, trusted_modules):
        raise Unresolvable(
            f"module {top!r} is not imported by this process and not in trusted_modules, "
            f"so apirec will not import it",
            allowed=False,
        )
    obj = _find(name)
    if obj is None:
        raise Unresolvable(f"no class {name!r} can be found", allowed=True)
    if not is_buildable(obj):
        raise Unresolvable(
            f"{name!r} is not a pydantic model, dataclass, enum or exception class; apirec "
            f"only rebuilds those (register_type() adds others)",
            allowed=False,
        )
    assert isinstance(obj, type)
    _resolved[name] = obj
    return obj


_GENERIC_ARGS = {
    type_name(t): t for t in (int, float, str, bool, bytes, list, dict, object, type(None))
}


def _resolve_generic(name: str, trusted_modules: Iterable[str]) -> type:
    """``"pkg.Page[pkg.Item]"``: a pydantic generic model parametrised by resolvable types."""
    origin_name, _, rest = name.partition("[")
    origin = resolve(origin_name, trusted_modules)
    if not (issubclass(origin, BaseModel) and origin.__pydantic_generic_metadata__["parameters"]):
        raise Unresolvable(f"{origin_name!r} is not a generic pydantic model", allowed=False)
    # "~T": a model parametrised by a type variable (openai's ParsedChatCompletion[~T], made
    # by the SDK when the parsed type is only known at run time): the origin's own variable
    # in that place, so validation leaves the value as it was stored
    parameters = origin.__pydantic_generic_metadata__["parameters"]
    texts = _split_args(rest[:-1])
    args = tuple(
        _type_variable(text, parameters[i] if i < len(parameters) else None, trusted_modules)
        if text.startswith("~")
        else _resolve_arg(text, trusted_modules)
        for i, text in enumerate(texts)
    )
    try:
        cls: type = origin[args if len(args) > 1 else args[0]]  # type: ignore[index]
    except TypeError as e:
        raise Unresolvable(f"cannot parametrise {origin_name}: {e}", allowed=True) from None
    if not _given.get():  # parametrised by a class given to one call: not for every call
        _resolved[name] = cls
    return cls


def _type_variable(text: str, own: Any, trusted_modules: Iterable[str]) -> Any:
    """``~module.Name``: that module's type variable, found under the rules of :func:`resolve`
    (its package imported or trusted); else, and for ``~Name``, the origin's own (``own``)."""
    name = text[1:]
    top = name.split(".", 1)[0]
    if "." in name and (top in sys.modules or _trusted(name, trusted_modules)):
        found = _find(name)
        if isinstance(found, typing.TypeVar):
            return found
    if own is None:
        raise Unresolvable(f"{text!r} has no type variable in that place", allowed=False)
    return own


def _resolve_arg(text: str, trusted_modules: Iterable[str]) -> Any:
    """An argument of a generic model: a class or a builtin generic of classes, or a union."""
    known = _GENERIC_ARGS.get(text)
    if known is not None:
        return known
    base, bracket, rest = text.partition("[")
    if bracket and text.endswith("]") and (base in _BUILTIN_GENERICS or base == _UNION):
        args = tuple(_resolve_arg(a, trusted_modules) for a in _split_args(rest[:-1]))
        if not args:
            raise Unresolvable(f"{text!r} has no arguments", allowed=False)
        generic: Any = typing.Union if base == _UNION else _BUILTIN_GENERICS[base]
        return generic[args if len(args) > 1 else args[0]]
    return resolve(text, trusted_modules)


def _split_args(text: str) -> list[str]:
    """Split ``"a.B[c.D, e.F], g.H"`` at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


# apirec's own types (the head an SDK stream stores first): installed code that replay rebuilds
# anyway, so verify and drift, which trust only what --trust names, trust it too
OWN = "apirec"


def _trusted(name: str, trusted_modules: Iterable[str]) -> bool:
    return any(name == t or name.startswith(t + ".") for t in (OWN, *trusted_modules))


def _dunder(part: str) -> bool:
    return part.startswith("__") and part.endswith("__")


def _find(name: str) -> object | None:
    """Import the longest module prefix of ``name`` that exists, then walk the attributes.

    Never imports a ``__main__`` or ``__init__`` module (``unittest.__main__`` runs a test
    program when imported) and never walks dunder attributes (``__class__``, ``__base__``).
    """
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        module = sys.modules.get(module_name)
        if module is None:
            if any(_dunder(p) for p in parts[:split]):
                continue
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            except (Exception, SystemExit):  # a module that fails to import is as good as absent
                return None
        obj: object = module
        for attr in parts[split:]:
            obj = None if _dunder(attr) else getattr(obj, attr, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None
