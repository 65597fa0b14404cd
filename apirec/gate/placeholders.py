"""What the gate puts in place of a value: a fixed placeholder of the value's own type and
shape (see :mod:`apirec.gate.walk`), and dict keys replaced without two entries merging."""

from __future__ import annotations

import base64
import re
from typing import Any

from apirec.gate.detect import PLACEHOLDER, PLACEHOLDER_BYTES, scrub_text

TYPE, DATA, STATE = "__type__", "__data__", "__state__"
BYTES_TYPES = frozenset({"builtins.bytes", "builtins.bytearray"})
_SCALAR_PLACEHOLDERS = {
    "uuid.UUID": "00000000-0000-0000-0000-000000000000",
    "decimal.Decimal": "0",
    "pathlib.Path": PLACEHOLDER,
    "pathlib.PurePath": PLACEHOLDER,
}


def placeholder(value: Any) -> Any:
    """``value`` replaced, keeping its type and shape (see the module docstring)."""
    t = type(value)
    if not value and (t is str or t is bytes):
        return value  # nothing to hide (an unset key stays visibly unset)
    if t is str:
        return PLACEHOLDER
    if t is bool or value is None:
        return value
    if t is int or t is float:
        return value  # counts named like secrets are common (a token index); keys are not
    if t is bytes:
        return PLACEHOLDER_BYTES
    if t is list:
        return [placeholder(v) for v in value]
    if t is dict:
        kind = value.get(TYPE)
        if type(kind) is str:
            if kind in BYTES_TYPES:
                return {**value, DATA: base64.b64encode(PLACEHOLDER_BYTES).decode("ascii")}
            if kind in _SCALAR_PLACEHOLDERS:
                return {**value, DATA: _SCALAR_PLACEHOLDERS[kind]}
            if kind.startswith("datetime."):
                return value  # a time is no secret, and has no neutral value
            return {
                k: v if k == TYPE else _placeholder_state(v) if k == STATE else placeholder(v)
                for k, v in value.items()
            }
        return _placeholder_mapping(value)
    return value


def rekeyed_dict(items: list[tuple[Any, Any, Any]]) -> dict[Any, Any]:
    """``(key, new key, new value)`` as a dict where two keys replaced alike stay two entries:
    the later ones numbered ``<redacted:2>``, ``<redacted:3>``... (keys left as they were
    are never renamed)."""
    taken = {k for k, new_k, _ in items if new_k == k}
    out: dict[Any, Any] = {}
    for k, new_k, new_v in items:
        if new_k != k:
            n = 1
            name = new_k
            while name in taken:
                n += 1
                tag = f"<redacted:{n}>"
                name = new_k.replace(PLACEHOLDER, tag, 1) if PLACEHOLDER in new_k else new_k + tag
            taken.add(name)
            new_k = name
        out[new_k] = new_v
    return out


_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,39}")


def _name_like(key: str) -> bool:
    """A dict key that reads as a name (a field, a header), not as a value used as a key."""
    if key.startswith("<redacted"):
        return True  # already a placeholder: the gate is idempotent
    return (
        _NAME_LIKE.fullmatch(key) is not None
        and sum(c.isdigit() for c in key) <= 6
        and scrub_text(key) is key
    )


def _placeholder_mapping(value: dict[Any, Any]) -> dict[Any, Any]:
    items = [
        (k, k if type(k) is not str or _name_like(k) else PLACEHOLDER, placeholder(v))
        for k, v in value.items()
    ]
    return rekeyed_dict(items)


def _placeholder_state(state: Any) -> Any:
    """A pydantic model's ``__state__`` under a secret name: its values replaced, the field
    names it lists (``set``, ``drop``) kept so the model still builds."""
    if type(state) is not dict:
        return placeholder(state)
    out = {}
    for k, v in state.items():
        names = k in ("set", "drop") and type(v) is list
        if names and all(type(n) is str and _name_like(n) for n in v):
            out[k] = v
        else:
            out[k] = placeholder(v)
    return out
