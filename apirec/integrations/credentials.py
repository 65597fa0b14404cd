"""Replay needs no credentials: placeholder API keys while an SDK is patched in replay mode.

A pull request from a fork runs without the project's API keys, and a replay never reaches a
provider; yet ``openai.OpenAI()`` refuses to be built without ``OPENAI_API_KEY``. So while a
recording in ``replay`` mode has an SDK patched, each key variable the SDK's clients read
(:func:`groups` of the integration) that is not set holds :data:`PLACEHOLDER`. It is set only
in replay mode (where no call goes out, so nothing is ever sent or stored with it), never
changes a variable the user set, and is gone when the last recording (or pytest run) that
holds it lets go: the environment is as it was, also when recordings in several threads
overlap or nest (:mod:`apirec.integrations.key_holders` counts the holders).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from apirec.integrations.key_holders import PLACEHOLDER as PLACEHOLDER
from apirec.integrations.key_holders import acquire, release
from apirec.integrations.known import Group
from apirec.record.modes import Mode
from apirec.record.wrapping import Patch

if TYPE_CHECKING:
    from apirec.record.recording import Recording


def groups(module_name: str, sdk: str) -> list[Group]:
    """The key variables of ``sdk`` as its integration module declares them."""
    module = importlib.import_module(module_name)
    declared = getattr(module, "credential_variables", None)
    return list(declared(sdk)) if callable(declared) else []


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
