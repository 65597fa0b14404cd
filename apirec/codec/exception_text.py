"""A replayed exception's ``str()`` is the recorded one (DESIGN §5).

An exception's ``__str__`` may read what was never data: aiohttp's ``ClientResponseError``
prints ``self.request_info.real_url``, and ``request_info`` is a live object. Recording finds
what ``__str__`` reads and replay lacks by rebuilding the exception and calling ``str()`` on
it: each ``AttributeError`` names the attribute (and the object it was missing on), whose
recorded value (or, when it is not data, its type, ``str()`` and ``repr()``) joins the stored
``"str_attributes"``. Only what ``str()`` reads is stored, and it is text the message shows.

When the class still cannot give the recorded message (its ``__str__`` reads a global table,
say), replay uses a subclass of it, with the same name, whose ``str()`` is the recorded text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apirec.codec.type_resolution import type_name
from apirec.errors import EncodeError

_MAX_LOOKUPS = 16


class Unrecorded:
    """Stands in for a value apirec could not store (an argument or an attribute): it has the
    recorded ``str()`` and ``repr()``, and the attributes the exception's ``str()`` read."""

    def __init__(self, type_name_: str, text: str, representation: str) -> None:
        object.__setattr__(self, "_apirec_type", type_name_)
        object.__setattr__(self, "_apirec_str", text)
        object.__setattr__(self, "_apirec_repr", representation)

    def __str__(self) -> str:
        return str(self._apirec_str)

    def __repr__(self) -> str:
        return str(self._apirec_repr)

    def __getattr__(self, name: str) -> Any:
        kind = self.__dict__.get("_apirec_type", "value")  # never self._x: that recurses
        raise AttributeError(
            f"this {kind} was not recorded (it is not data): only its str(), "
            f"repr() and what the exception's str() read are",
            name=name,
            obj=self,
        )


def text_of(value: Any) -> dict[str, str]:
    """What is kept of a value that is not data: its type name, ``str()`` and ``repr()``."""
    if isinstance(value, Unrecorded):  # stored again as it was recorded
        return {"type": value._apirec_type, "str": value._apirec_str, "repr": value._apirec_repr}
    return {"type": recorded_type(value), "str": safe_str(value), "repr": safe_str(value, repr)}


def recorded_type(value: Any) -> str:
    return value._apirec_type if isinstance(value, Unrecorded) else type_name(type(value))


def from_text(data: Any) -> Unrecorded:
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in _TEXT_KEYS):
        raise ValueError("an unrecorded value needs 'type', 'str' and 'repr' strings")
    return Unrecorded(data["type"], data["str"], data["repr"])


_TEXT_KEYS = ("type", "str", "repr")


def safe_str(value: Any, how: Callable[[Any], str] = str) -> str:
    try:
        return how(value)
    except Exception as e:  # a __str__ that fails: say so rather than fail the recording
        return f"<{how.__name__}() of {type(value).__name__} failed: {type(e).__name__}>"


def str_needs(
    error: BaseException,
    message: str,
    build: Callable[[dict[str, Any]], BaseException],
    encode: Callable[[Any], Any],
) -> dict[str, Any]:
    """The ``"str_attributes"`` replay needs for ``str()`` to give ``message``: empty when
    it gives it without them, or when they would not be enough (replay then falls back).

    ``build(needs)`` rebuilds the exception as replay will, with ``needs`` applied.
    """
    needs: dict[str, Any] = {}
    for _ in range(_MAX_LOOKUPS):
        try:
            rebuilt = build(needs)
            return needs if str(rebuilt) == message else {}
        except AttributeError as e:
            path = _path_of(e.obj, rebuilt)
            if path is None or not isinstance(e.name, str) or not _settable(e.name):
                return {}
            try:
                value = _follow(error, [*path, e.name])
            except Exception:  # the recorded exception lacks it too
                return {}
            _insert(needs, path, e.name, _node(value, encode))
        except Exception:  # a __str__ that fails otherwise, or data replay cannot build
            return {}
    return {}


def _node(value: Any, encode: Callable[[Any], Any]) -> dict[str, Any]:
    try:
        return {"value": encode(value)}
    except (EncodeError, RecursionError):
        return {"text": text_of(value), "attributes": {}}


def _path_of(obj: object, rebuilt: BaseException) -> list[str] | None:
    """The attribute names leading from ``rebuilt`` to ``obj`` (a stand-in it holds)."""
    stack: list[tuple[object, list[str]]] = [(rebuilt, [])]
    while stack:
        current, path = stack.pop()
        if current is obj:
            return path
        if len(path) < 4:
            for k, v in vars(current).items():
                if isinstance(v, Unrecorded):
                    stack.append((v, [*path, k]))
    return None


def _follow(root: object, path: list[str]) -> Any:
    for name in path:
        root = getattr(root, name)
    return root


def _insert(needs: dict[str, Any], path: list[str], name: str, node: dict[str, Any]) -> None:
    level = needs
    for step in path:
        level = level[step]["attributes"]
    level[name] = node


def _settable(name: str) -> bool:
    return name.isidentifier() and not (name.startswith("__") and name.endswith("__"))


def apply_needs(target: object, needs: Any, decode: Callable[[Any], Any], depth: int = 0) -> None:
    """Set on ``target`` the recorded ``"str_attributes"``."""
    if not isinstance(needs, dict) or depth > 4:
        raise ValueError("'str_attributes' must be an object of attribute names")
    for name, node in needs.items():
        if not _settable(name) or not isinstance(node, dict):
            raise ValueError(f"bad entry {name!r} in 'str_attributes'")
        if "value" in node:
            value = decode(node["value"])
        else:
            value = from_text(node.get("text"))
            apply_needs(value, node.get("attributes", {}), decode, depth + 1)
        if isinstance(target, Unrecorded):
            object.__setattr__(target, name, value)
        elif not hasattr(type(target), name):  # never shadow a method or a descriptor
            target.__dict__[name] = value


_text_classes: dict[type, type] = {}


def with_recorded_text(cls: type[BaseException]) -> type[BaseException]:
    """A subclass of ``cls`` named like it whose ``str()`` is the recorded message."""
    if cls.__dict__.get("__apirec_text__"):
        return cls
    made = _text_classes.get(cls)
    if made is None:
        namespace = {
            "__str__": _recorded_str,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "__apirec_text__": True,
        }
        made = type(cls.__name__, (cls,), namespace)
        _text_classes[cls] = made
    return made


def _recorded_str(self: BaseException) -> str:
    return str(self.__dict__.get("_apirec_message", ""))


def recorded_origin(cls: type) -> type:
    """The recorded class of a replayed exception (never apirec's text subclass)."""
    if cls.__dict__.get("__apirec_text__"):
        return cls.__mro__[1]
    return cls
