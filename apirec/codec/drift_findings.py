"""What ``apirec drift`` finds wrong with a recorded typed value, and the kinds of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Kinds of findings; ``Finding.breaks`` says whether replay no longer gives the type.
NOT_CHECKED = "not checked"
UNRESOLVED = "unresolvable"
MISSING = "missing field"
INVALID = "invalid value"
UNKNOWN = "unknown field"
NOT_MEMBER = "not a member"
STATE_LOST = "state does not apply"
UNVALIDATED = "replays unvalidated"
UNDECODABLE = "does not decode"
# What validation reports: not drift when the recording was made with the installed version
# (the class is the one it was recorded with; the SDK built the value without validation then
# too), which only the caller, knowing the versions, can tell.
VALIDATION = frozenset({MISSING, INVALID, UNVALIDATED})


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with one recorded value of a type, at ``field`` (a path, or "")."""

    kind: str
    field: str
    detail: str
    breaks: bool


def field_path(loc: Iterable[int | str]) -> str:
    """``("choices", 0, "delta")`` as ``choices[*].delta``: one path for every item."""
    out = ""
    for part in loc:
        out += "[*]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
