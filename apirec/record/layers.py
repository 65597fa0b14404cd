"""Where a setting comes from: one rule for every setting of apirec's, in one function.

A setting can be given in up to five places, and the first that gives it wins::

    marker or recording()'s argument > command line > ini file > APIREC_* variable > default

The pytest plugin (``--apirec-remote``, ini ``apirec_remote``) and the ``apirec`` commands
(``--remote``, the ini file above the recordings) resolve through :func:`first_given`, so a
CI step's ``apirec pull`` finds the remote store where the test run after it does. Each
caller says what it has, by layer; the order is this function's alone.

``None`` at a layer says nothing and the next layer decides; any other value decides, ``""``
included (for the remote store, ``""`` means none, whatever the layers below say). An
environment variable set to ``""`` says nothing: it is the shell's way of unsetting it.
"""

from __future__ import annotations

import os
from typing import Any

Layer = tuple[str, Any]  # (how messages name it, the value given there or None)


class Given:
    """A setting's value and the layer it came from, named for messages
    (``--apirec-remote``, ``ini apirec_remote``, ``environment variable APIREC_REMOTE``).

    A plain class: every pytest run reads its mode through here, and a dataclass costs ~0.5 ms
    to make."""

    __slots__ = ("source", "value")

    def __init__(self, value: Any, source: str) -> None:
        self.value = value
        self.source = source

    def __repr__(self) -> str:
        return f"Given(value={self.value!r}, source={self.source!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Given):
            return NotImplemented
        return (self.value, self.source) == (other.value, other.source)

    def __hash__(self) -> int:
        return hash((self.value, self.source))


def first_given(
    *,
    argument: Layer | None = None,
    command_line: Layer | None = None,
    ini: Layer | None = None,
    environment: str | None = None,
) -> Given | None:
    """The value of the first layer that gives one, in the order of the module docstring;
    ``environment`` is the variable's name, read now. None: no layer gives it (the
    default applies)."""
    for layer in (argument, command_line, ini):
        if layer is not None and layer[1] is not None:
            return Given(layer[1], layer[0])
    if environment is not None:
        value = os.environ.get(environment)
        if value:
            return Given(value, f"environment variable {environment}")
    return None
