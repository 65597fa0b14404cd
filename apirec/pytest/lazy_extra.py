"""A recording's ``Settings.extra`` whose per-test message parts are made when first read.

The plugin's settings carry the command that records a test again (its node id relative to
where pytest started, and the store option, which looks for a msgpack file in the store's
directory): only a miss or an expired answer words it, so a test that replays never pays for
it (a ``relpath`` and a ``stat`` per test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class LazyExtra(Mapping[str, Any]):
    """``values``, and ``later``: names whose value the function gives, called once, when the
    name is first read (two threads reading at once may both call it: it has no effects)."""

    def __init__(self, values: dict[str, Any], later: dict[str, Callable[[], Any]]) -> None:
        self._values = dict(values)
        self._later = dict(later)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            make = self._later.get(name)
            if make is None:
                raise
        value = self._values[name] = make()
        self._later.pop(name, None)
        return value

    def __iter__(self) -> Iterator[str]:
        yield from self._values
        yield from (name for name in list(self._later) if name not in self._values)

    def __len__(self) -> int:
        return len(self._values.keys() | self._later.keys())

    def __repr__(self) -> str:
        return f"LazyExtra({dict(self)!r})"
