"""The plugin's side of expiry (:mod:`apirec.record.expiry`): its options in every layer.

``--apirec-max-age=30d`` and ``--apirec-expired=warn|fail|record``, the ini keys
``apirec_max_age`` and ``apirec_expired``, the marker options ``max_age=`` and
``on_expired=``. Precedence as everywhere: marker > command line > ini > environment
(``APIREC_MAX_AGE``, ``APIREC_EXPIRED``); unset, nothing expires (and ``on_expired`` is
``warn``); the marker's ``max_age=None`` turns it off. A value apirec cannot read is a usage
error naming the option it came from. Command-line values also go to the environment for the
run (:mod:`apirec.pytest.environment`), so recordings a conftest opens itself follow them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from apirec.errors import InvalidExpiry
from apirec.record.expiry import (
    NEVER,
    parse_max_age,
    parse_on_expired,
)
from apirec.record.layers import first_given

MARKER_OPTIONS = ("max_age", "on_expired")


@dataclass(frozen=True)
class ExpiryOptions:
    """The command-line and ini layers, read once per session."""

    max_age: dt.timedelta | None
    on_expired: str | None


OPTIONS = pytest.StashKey[ExpiryOptions]()


def _read(value: Any, source: str, parse: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return parse(value, source)
    except InvalidExpiry as e:
        raise pytest.UsageError(str(e)) from None


def configure(config: pytest.Config) -> None:
    # APIREC_MAX_AGE and APIREC_EXPIRED, the next layer, are read by the recording
    age = first_given(
        command_line=("--apirec-max-age", config.getoption("apirec_max_age") or None),
        ini=("ini apirec_max_age", config.getini("apirec_max_age") or None),
    )
    action = first_given(
        command_line=("--apirec-expired", config.getoption("apirec_expired") or None),
        ini=("ini apirec_expired", config.getini("apirec_expired") or None),
    )
    config.stash[OPTIONS] = ExpiryOptions(
        max_age=None if age is None else _read(age.value, age.source, parse_max_age),
        on_expired=None if action is None else _read(action.value, action.source, parse_on_expired),
    )


def settings_layer(config: pytest.Config, marker: dict[str, Any], where: str) -> dict[str, Any]:
    """``max_age`` and ``on_expired`` for one test: marker > command line > ini.

    The marker's ``max_age=None`` turns expiry off for its tests.
    """
    options = config.stash[OPTIONS]
    max_age = options.max_age
    if "max_age" in marker:
        max_age = _read(marker["max_age"], f"{where}: max_age", parse_max_age)
        max_age = NEVER if max_age is None else max_age  # off, whatever the layers below say
    on_expired = _read(marker.get("on_expired"), f"{where}: on_expired", parse_on_expired)
    return {
        "max_age": max_age,
        "on_expired": on_expired if on_expired is not None else options.on_expired,
    }


def advice(marker: dict[str, Any], nodeid: str, command: Callable[[str], str]) -> str | None:
    """How to re-record an expired answer of a test whose marker fixes ``on_expired`` (not to
    ``record``) or the mode: no ``--apirec-expired`` or ``--apirec-mode`` can change those, so
    record mode, which replays nothing, is the way (``command(mode)``: the test's command in
    that mode). None: the recorder's own advice (record-if-missing mode with
    ``--apirec-expired=record``) works."""
    fixed = marker.get("on_expired")
    if fixed in (None, "record") and "mode" not in marker:
        return None
    where = f"@pytest.mark.apirec on {nodeid}"
    why = f"on_expired={fixed!r} in {where} overrides --apirec-expired, so " if fixed else ""
    return f"{why}re-record the test in record mode: {command('record')}"
