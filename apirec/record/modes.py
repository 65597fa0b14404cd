"""The modes and how the active one is chosen."""

from __future__ import annotations

import os
from enum import StrEnum

from apirec.errors import InvalidMode

ENV_VAR = "APIREC_MODE"


class Mode(StrEnum):
    """What a recorded call does (DESIGN §2).

    ============================ ========================= ==========================
    mode                         stored answer             no stored answer
    ============================ ========================= ==========================
    ``live``                     call through, store none  call through
    ``record``                   call through, overwrite   call through, store
    ``replay`` (default)         return it, never call     raise RecordingNotFound
    ``record-if-missing``        return it                 call through, store
    ``compare``                  call through, compare it  call through, "new"
    ============================ ========================= ==========================

    ``compare`` stores nothing: it reports how each live answer differs from the stored one
    (:mod:`apirec.record.comparing`).
    """

    LIVE = "live"
    RECORD = "record"
    REPLAY = "replay"
    RECORD_IF_MISSING = "record-if-missing"
    COMPARE = "compare"

    def __str__(self) -> str:
        return self.value


VALID_MODES = [m.value for m in Mode]


def parse_mode(value: Mode | str, *, source: str = "mode") -> Mode:
    """Turn a mode name into a :class:`Mode`, or fail listing the valid names."""
    if isinstance(value, Mode):
        return value
    try:
        return Mode(str(value).strip().lower().replace("_", "-"))
    except ValueError:
        raise InvalidMode(
            f"{value!r} is not a valid record mode ({source}). "
            f"Valid modes are: {', '.join(VALID_MODES)}"
        ) from None


def resolve_mode(explicit: Mode | str | None) -> Mode:
    """The ``mode=`` argument, else ``APIREC_MODE``, else ``replay`` (never the network)."""
    if explicit is None and not os.environ.get(ENV_VAR):  # no layer gives one (every pytest
        return Mode.REPLAY  # run asks, and need not load the layers for the default)
    from apirec.record.layers import first_given  # not on `import apirec`'s path

    given = first_given(argument=("mode", explicit), environment=ENV_VAR)
    return Mode.REPLAY if given is None else parse_mode(given.value, source=given.source)
