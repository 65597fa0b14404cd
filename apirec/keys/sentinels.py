"""The SDKs' not-given sentinels, recognised by their shape (DESIGN §10, last paragraphs).

openai's ``NOT_GIVEN``/``not_given``/``omit`` and their twins in every SDK generated like it
(anthropic, groq, together, mistral...: classes ``NotGiven`` and ``Omit`` in ``<sdk>._types``),
and pydantic-ai's ``Unset``, mean "this argument was not given". A call passing one is the call
without it, so keys and stored requests leave them out wherever they are in the arguments.

Recognised without importing any SDK: a class of one of those names (leading underscores and a
``Type`` suffix allowed) that derives from ``object`` alone and whose instances carry no data.
A class of that name holding fields (a dataclass, a model, attributes set on the instance) is
a real argument and keyed as usual.
"""

from __future__ import annotations

import functools
from typing import Any

SENTINEL_NAMES = frozenset({"notgiven", "omit", "unset", "notset"})


@functools.lru_cache(maxsize=256)
def _is_sentinel_class(cls: type) -> bool:
    name = cls.__name__.lstrip("_").lower()
    name = name.removesuffix("type")
    return name in SENTINEL_NAMES and cls.__mro__[1:] == (object,)


def is_not_given(value: Any) -> bool:
    """Whether ``value`` is an SDK's "not given" sentinel: left out of keys and requests."""
    cls: type = type(value)
    if not _is_sentinel_class(cls):
        return False
    # openai sets ``__module__`` on the instances it exports: dunders are not data
    state = getattr(value, "__dict__", None) or {}
    return all(k.startswith("__") for k in state)
