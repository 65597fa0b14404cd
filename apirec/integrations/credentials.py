"""Replay needs no credentials: placeholder API keys while an SDK is patched in replay mode.

A pull request from a fork runs without the project's API keys, and a replay never reaches a
provider; yet ``openai.OpenAI()`` refuses to be built without ``OPENAI_API_KEY``. So while a
recording in ``replay`` mode has an SDK patched, each key variable the SDK's clients read
(:func:`groups` of the integration) that is not set holds :data:`PLACEHOLDER`. It is set only
in replay mode (where no call goes out, so nothing is ever sent or stored with it), never
changes a variable the user set, and is gone when the last recording (or pytest run) that
holds it lets go: the environment is as it was, also when recordings in several threads
overlap or nest.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from apirec.record.modes import Mode
from apirec.record.wrapping import Patch

if TYPE_CHECKING:
    from apirec.record.recording import Recording

PLACEHOLDER = "apirec-replay-placeholder"

# A group is the variables one client reads for one key, the one apirec sets first: none is
# set when none of the group is (genai reads GOOGLE_API_KEY or GEMINI_API_KEY).
Group = tuple[str, ...]

_lock = threading.Lock()
# variable apirec set -> how many hold it, and the value it had before ("" or None)
_holders: dict[str, int] = {}
_before: dict[str, str | None] = {}


def groups(module_name: str, sdk: str) -> list[Group]:
    """The key variables of ``sdk`` as its integration module declares them."""
    module = importlib.import_module(module_name)
    declared = getattr(module, "credential_variables", None)
    return list(declared(sdk)) if callable(declared) else []


def groups_before_import(module_name: str, sdk: str) -> tuple[list[Group], bool]:
    """The key variables of ``sdk`` known without importing it, and whether more are found
    once it is imported (an integration that finds them in the SDK's own classes declares
    ``credential_variables_before_import``; the others declare them all up front)."""
    module = importlib.import_module(module_name)
    early = getattr(module, "credential_variables_before_import", None)
    if callable(early):
        return list(early(sdk)), True
    return groups(module_name, sdk), False


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


class Placeholders(Patch):
    """Holds placeholder keys for as long as the recording it was started in is open."""

    def __init__(self, wanted: list[Group]) -> None:
        super().__init__("os.environ")
        self.wanted = wanted
        self._taken: list[str] = []

    def start(self) -> Patch:
        if not self.active:
            self._taken = acquire(self.wanted)
            self.active = True
        return self

    def stop(self) -> None:
        if self.active:
            release(self._taken)
            self._taken = []
            self.active = False


def hold_for(rec: Recording, wanted: list[Group]) -> list[Patch]:
    """Placeholder keys while ``rec`` is open, when it replays (nothing goes out)."""
    if rec.mode is not Mode.REPLAY or not wanted:
        return []
    return [rec.start_patch(Placeholders(wanted))]
