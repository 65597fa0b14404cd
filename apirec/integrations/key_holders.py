"""Who holds which placeholder API key: set by the first holder, put back by the last.

Light (the standard library only): the pytest plugin's start-up sets a replaying run's keys
with it before it loads the recorder; :mod:`apirec.integrations.credentials` (a recording's
keys) counts its holders here too, so the two never undo each other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from apirec.integrations.known import Group

PLACEHOLDER = "apirec-replay-placeholder"

_lock = threading.Lock()
# variable apirec set -> how many hold it, and the value it had before ("" or None)
_holders: dict[str, int] = {}
_before: dict[str, str | None] = {}


def acquire(wanted: Iterable[Group]) -> list[str]:
    """Set a placeholder in each group with no value; the variables now held (release them)."""
    taken: list[str] = []
    with _lock:
        for group in wanted:
            if not group:
                continue
            name = group[0]
            if name in _holders:
                _holders[name] += 1
            elif any(os.environ.get(n) for n in group):
                continue  # the user's own key: theirs to use
            else:
                _holders[name], _before[name] = 1, os.environ.get(name)
                os.environ[name] = PLACEHOLDER
            taken.append(name)
    return taken


def release(names: Iterable[str]) -> None:
    """Let go of variables :func:`acquire` returned; the last holder puts back what was."""
    with _lock:
        for name in names:
            if name not in _holders:
                continue
            _holders[name] -= 1
            if _holders[name] > 0:
                continue
            del _holders[name]
            previous = _before.pop(name)
            if os.environ.get(name) != PLACEHOLDER:
                continue  # changed since: the user's now
            if previous is None:
                del os.environ[name]
            else:
                os.environ[name] = previous
