"""The one place every entry passes on its way to any store: the write gate (DESIGN §12).

Both stores call :func:`gated` (or :func:`gated_bytes`, for a recording kept as its verbatim
JSON text) before they serialise anything, in every write method: ``write``, ``replace``,
``write_named``, conversion and compaction; so a new way to write inherits the gate. What
the gate replaces: :mod:`apirec.gate`.
"""

from __future__ import annotations

import json
from typing import Any

from apirec.errors import StoreError
from apirec.gate.rules import NO_RULES, Rules
from apirec.gate.walk import scrub_entry

Entry = dict[str, Any]


def gated(entry: Entry, rules: Rules = NO_RULES) -> Entry:
    """``entry`` as it may be stored: secrets replaced (``rules``: the user's ``scrub=``).

    An entry the gate cannot read whole is never written unread: a :class:`StoreError`."""
    try:
        return scrub_entry(entry, rules)
    except RecursionError:
        raise StoreError(
            "the recording is nested too deeply for the write gate to read it; not stored"
        ) from None


def gated_text(text: str, rules: Rules = NO_RULES) -> str:
    """``text`` as the gate would store it (a note or a message apirec prints about a call:
    the same secrets replaced as in the entries)."""
    scrubbed = gated({"response": text}, rules)["response"]
    return scrubbed if isinstance(scrubbed, str) else text


def gated_bytes(raw: bytes, rules: Rules = NO_RULES) -> Entry | bytes:
    """A recording's JSON text as it may be stored: the same bytes when the gate changes
    nothing, else the scrubbed entry (the caller writes it in its own form)."""
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return raw  # not JSON: the reader reports it, naming the file
    if not isinstance(entry, dict):
        return raw
    scrubbed = gated(entry, rules)
    return raw if scrubbed == entry else scrubbed
