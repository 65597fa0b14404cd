"""A replaying run's placeholder API keys, held for the whole run: light (no recorder).

Clients built in session fixtures, and the processes the tests start, need the keys before any
test's recording opens. The variables known without importing the SDK
(:func:`apirec.integrations.known.credentials_before_import`) are set at once; the others
(``AZURE_OPENAI_API_KEY``...) are found in the SDK's own classes the moment the run imports it
(:mod:`apirec.integrations.after_import`), so a run that never does never pays for its import.
Whichever part of the plugin holds them first (the start-up, for a run configured only by the
ini keys and variables it reads itself; else the full plugin) holds them for the run: the
other finds them held, and :func:`release` lets go of them once.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import pytest

from apirec.integrations import key_holders
from apirec.integrations.after_import import after_import
from apirec.integrations.known import credentials_before_import, module_for

HELD = pytest.StashKey[list[str]]()
WAITING = pytest.StashKey[list[Callable[[], None]]]()  # SDKs not imported yet: forget them


def hold(config: pytest.Config, names: tuple[str, ...]) -> None:
    """Placeholders for the keys of the SDKs ``names`` (checked) of a run that replays;
    nothing if they are held already. Call it last: a usage error after it would leave
    them set (pytest calls no unconfigure for a configure that raised)."""
    if not names or HELD in config.stash:
        return
    held = config.stash[HELD] = []
    waiting = config.stash[WAITING] = []
    for name in names:
        # Set now: the variables known without importing the SDK (the processes the tests
        # start inherit them, and a key a test sets for itself cannot stand in for the run's).
        now, more = credentials_before_import(module_for(name), name)
        held += key_holders.acquire(now)
        if more:
            waiting.append(after_import(name, functools.partial(_hold, held, name)))


def _hold(held: list[str], sdk: str) -> None:
    # the SDK is imported; only a generated one waits for it (credentials_before_import), and
    # its keys are found in its own classes by a light scan: not by its integration module,
    # which would load the recorder into a run that may use no recording
    from apirec.integrations.stainless_keys import credential_variables

    try:
        held += key_holders.acquire(credential_variables(sdk))
    except Exception as e:  # never the user's import's error: their replay says what is wrong
        warnings.warn(
            f"apirec: could not set placeholder API keys for {sdk!r} ({e}); a client built "
            f"without a key may refuse to start",
            stacklevel=2,
        )


def release(config: pytest.Config) -> None:
    """Let go of the run's keys (at unconfigure); a second call does nothing."""
    for forget in config.stash.get(WAITING, []):
        forget()
    held: list[str] = config.stash.get(HELD, [])
    key_holders.release(held)
    if WAITING in config.stash:
        del config.stash[WAITING]
    if HELD in config.stash:
        del config.stash[HELD]
