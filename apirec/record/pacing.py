"""Replay at the recorded pace (opt-in): ``replay_timing="recorded"``, or a factor.

A replayed answer waits as long as its live call took (its ledger's ``seconds``, times the
factor: ``0.5`` replays twice as fast), and a replayed stream yields each chunk when it came
live (the ledger's ``chunk_seconds``), so timeouts, spinners and streaming UIs can be tested.
Answers with no ledger (recorded before it) replay at once. Off by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apirec.record.layers import first_given
from apirec.stores.ledger import LEDGER, seconds_of

ENV_REPLAY_TIMING = "APIREC_REPLAY_TIMING"


def parse_replay_timing(value: Any, source: str = "replay_timing") -> float | None:
    """``None``/``"off"``: at once; ``"recorded"``: the recorded pace; a number > 0: that
    factor of it. Anything else, a bool included, is a ValueError naming ``source``."""
    if isinstance(value, bool):  # True is no pace (float(True) would be 1.0): say which
        raise ValueError(
            f"{source}: {value!r} is not a replay timing: give 'recorded' (the recorded "
            f"pace) or a number > 0 (a factor of it: 0.5 is twice as fast); None or 'off' "
            f"replays at once"
        )
    if value is None or value == "off":
        return None
    if value == "recorded":
        return 1.0
    try:
        factor = float(value)
    except (TypeError, ValueError):
        factor = float("nan")
    if not factor > 0 or factor == float("inf"):
        raise ValueError(
            f"{source}: {value!r} is not a replay timing: give 'recorded' (the recorded "
            f"pace), a factor > 0 (0.5: twice as fast) or 'off'"
        )
    return factor


def layered(value: Any) -> float | None:
    """The given value, else ``APIREC_REPLAY_TIMING``, else off."""
    given = first_given(argument=("replay_timing", value), environment=ENV_REPLAY_TIMING)
    return None if given is None else parse_replay_timing(given.value, given.source)


def wait_of(entry: Mapping[str, Any], factor: float) -> float:
    """How long a replay of this (not streamed) answer waits: what the live call took."""
    ledger = entry.get(LEDGER)
    if not isinstance(ledger, dict) or entry.get("response", {}).get("is_streaming"):
        return 0.0
    seconds = seconds_of(ledger.get("seconds"))
    return 0.0 if seconds is None else seconds * factor


def chunk_times(entry: Mapping[str, Any], factor: float) -> list[float] | None:
    """When each chunk of a replayed stream is due, in seconds from the call."""
    ledger = entry.get(LEDGER)
    times = ledger.get("chunk_seconds") if isinstance(ledger, dict) else None
    if not isinstance(times, list):
        return None
    due = [seconds_of(t) for t in times]
    return [t * factor for t in due if t is not None] if None not in due else None
