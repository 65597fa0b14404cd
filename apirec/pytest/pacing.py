"""The plugin's side of replay timing (:mod:`apirec.record.pacing`): the marker option
``replay_timing=``, ``--apirec-replay-timing=recorded|FACTOR|off`` and the ini key
``apirec_replay_timing``; marker > command line > ini > ``APIREC_REPLAY_TIMING`` > off."""

from __future__ import annotations

from typing import Any

import pytest

from apirec.record.layers import first_given
from apirec.record.pacing import parse_replay_timing

MARKER_OPTIONS = ("replay_timing",)
_GIVEN = pytest.StashKey[Any]()  # the command line's or the ini's value, as given


def _checked(value: Any, source: str) -> Any:
    if value is None or value == "":
        return None
    try:
        parse_replay_timing(value, source)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    return value


def configure(config: pytest.Config) -> None:
    # APIREC_REPLAY_TIMING, the next layer, is read by the recording (record.pacing)
    given = first_given(
        command_line=("--apirec-replay-timing", config.getoption("apirec_replay_timing", None)),
        ini=("ini apirec_replay_timing", config.getini("apirec_replay_timing") or None),
    )
    config.stash[_GIVEN] = None if given is None else _checked(given.value, given.source)


def settings_layer(config: pytest.Config, marker: dict[str, Any], where: str) -> dict[str, Any]:
    given = _checked(marker.get("replay_timing"), f"{where}: replay_timing")
    return {"replay_timing": given if given is not None else config.stash.get(_GIVEN, None)}
