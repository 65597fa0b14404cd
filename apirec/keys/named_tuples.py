"""A NamedTuple argument: keyed as any tuple, its fields named like a secret redacted.

``Login(user, password)`` is read by its field names, as a dataclass is, so its password is
neither keyed nor stored. A NamedTuple with no such field is keyed as the list of its values,
as every tuple is, so the keys of calls recorded before stay the same.
"""

from __future__ import annotations

from typing import Any, Protocol

from apirec.gate.names import is_secret_value, norm
from apirec.keys.marks import _OMITTED, _REDACTED

PathTree = dict[str, "PathTree"]  # as apirec.keys.canonical's, which imports this module


class Canonicalizer(Protocol):
    """What of :class:`apirec.keys.canonical.Canonicalizer` this module uses."""

    def _secret(self, name: str, context: str | None = None) -> bool: ...

    def value(
        self,
        value: Any,
        where: str,
        ignore: PathTree | None,
        redact: PathTree | None,
        context: str | None = None,
    ) -> Any: ...


def named_tuple_items(
    canon: Canonicalizer,
    value: Any,
    where: str,
    ignore: PathTree | None,
    redact: PathTree | None,
    context: str | None,
) -> list[Any] | None:
    """The canonical items of a NamedTuple ``value`` with a field named like a secret (or by
    ``redact=``, a name or a path) redacted; None for another value, or a NamedTuple with no
    such field (keyed as any tuple)."""
    names = getattr(type(value), "_fields", None)
    if not isinstance(value, tuple) or not isinstance(names, tuple):
        return None
    secret = [
        (canon._secret(name, context) and is_secret_value(name, v))
        or (redact is not None and redact.get(norm(name)) == {})
        for name, v in zip(names, value, strict=False)
    ]
    if not any(secret):
        return None
    items = []
    for i, v in enumerate(value):
        item = _REDACTED if secret[i] else canon.value(v, f"{where}[{i}]", ignore, redact, context)
        if item is not _OMITTED:
            items.append(item)
    return items
