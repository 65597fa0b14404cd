"""The ``APIREC_*`` variables a run's recordings read, checked once as the run starts: a bad
value is a usage error (exit code 4) naming the variable and the valid values, as a bad
``--apirec-mode`` or ini key is, not an error at the setup of every test, as each test's
recording is built (issue 20).

The start-up calls it on every run, so it stays cheap: a run that sets none of them reads
``os.environ`` and imports nothing; ``APIREC_MODE`` is checked by :mod:`apirec.record.modes`,
which the start-up holds already; the others by the recorder's own parsers (the messages a
recording gives), imported only when their variable is set: such a run loads the plugin, and
so the recorder, anyway. ``APIREC_BLOCK_NETWORK`` is checked by :mod:`apirec.pytest.network`,
``APIREC_RECORD_BUDGET`` and ``APIREC_PRICES`` by the plugin as it configures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from apirec.errors import ApirecError
from apirec.record.modes import ENV_VAR, parse_mode


def _max_age(value: str, source: str) -> Any:
    from apirec.record.expiry import parse_max_age

    return parse_max_age(value, source)


def _on_expired(value: str, source: str) -> Any:
    from apirec.record.expiry import parse_on_expired

    return parse_on_expired(value, source)


def _repeats(value: str, source: str) -> Any:
    from apirec.record.sequences import parse_repeats

    return parse_repeats(value, source)


def _replay_timing(value: str, source: str) -> Any:
    from apirec.record.pacing import parse_replay_timing

    return parse_replay_timing(value, source)


def _allow_hosts(value: str, source: str) -> Any:
    from apirec.guard.hosts import HostRules
    from apirec.record.settings import split_hosts

    return HostRules.parse(split_hosts(value))


def _remote(value: str, source: str) -> Any:
    from apirec.stores.remote.objects import check_remote

    return check_remote(value)


# each variable a recording reads as it is built, and the check its value must pass
CHECKS: tuple[tuple[str, Callable[[str, str], Any]], ...] = (
    (ENV_VAR, lambda value, source: parse_mode(value, source=source)),
    ("APIREC_ALLOW_HOSTS", _allow_hosts),
    ("APIREC_MAX_AGE", _max_age),
    ("APIREC_EXPIRED", _on_expired),
    ("APIREC_REPEATS", _repeats),
    ("APIREC_REPLAY_TIMING", _replay_timing),
    ("APIREC_REMOTE", _remote),
)


def check_environment() -> None:
    """A ``pytest.UsageError`` for the first variable set to a value the recorder refuses."""
    for name, check in CHECKS:
        value = os.environ.get(name)
        if not value:  # "" says nothing (apirec.record.layers)
            continue
        source = f"environment variable {name}"
        try:
            check(value, source)
        except (ApirecError, TypeError, ValueError) as e:
            said = str(e)
            raise pytest.UsageError(said if name in said else f"{source}: {said}") from None
