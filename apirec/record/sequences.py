"""Sequences (DESIGN §13): what replay does with a call past the end of its recorded answers.

The n-th identical call gets the n-th stored answer. ``repeats`` says what a call past the
end gets:

* ``"exact"`` (the default): it is a miss, :class:`~apirec.SequenceExhausted`, which says how
  many answers were recorded and which call this is: an agent loop that now makes one call
  more fails instead of passing on the last answer again;
* ``"last"``: the last answer again (polling, a health check asked any number of times).

Unset, a function keyed by another recorder's format (``keys="llama-stack"``) repeats, as that
recorder did. Set on ``@apirec.record`` / ``patch`` (for one function), else on the recording
(``repeats=``, the marker, ``--apirec-repeats``, ini ``apirec_repeats``, ``APIREC_REPEATS``).
In ``record-if-missing`` mode a call past the end is recorded as the next answer.
"""

from __future__ import annotations

from typing import Any

from apirec.record.layers import first_given

REPEATS = ("exact", "last")
ENV_REPEATS = "APIREC_REPEATS"


def parse_repeats(value: Any, source: str = "repeats") -> str:
    if value in REPEATS:
        return str(value)
    raise ValueError(
        f"{source}: {value!r} is not a valid repeats value; use 'exact' (a call past the end "
        f"of a recorded sequence is a miss, the default) or 'last' (it gets the last answer "
        f"again)"
    )


def layered(repeats: Any) -> str | None:
    """The given value, else ``APIREC_REPEATS``, else None (not set: see :func:`repeats_last`)."""
    given = first_given(argument=("repeats", repeats), environment=ENV_REPEATS)
    return None if given is None else parse_repeats(given.value, given.source)


def repeats_last(function: str | None, recording: str | None, *, keyed_elsewhere: bool) -> bool:
    """Whether a call past the end of its sequence gets the last answer again: the function's
    choice, else the recording's, else what the format of its keys did (another recorder's,
    such as llama-stack's, repeated)."""
    choice = function or recording
    return keyed_elsewhere if choice is None else choice == "last"
