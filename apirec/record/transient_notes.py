"""Calls whose recorded outcome was a transient error that was not stored: remembered, so their
replay miss can say so, and told at record time.

A 429 or 5xx that no retry followed is not stored (:mod:`apirec.record.error_policy`), so its
replay finds nothing. The recording that saw it keeps a note of the call in its store's
directory (``.apirec-transient``, JSON: key -> function and error) when it closes, and drops
the note when a later recording stores an answer for that key; a replay miss reads it and says
that the recorded call ended in a transient error that was not stored. The notes are advice:
two processes closing at once may lose one (the miss then says less, nothing more).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from apirec.errors import ApirecError, StoreError, TransientErrorWarning, called
from apirec.record.calls import Call
from apirec.record.error_policy import is_transient, should_store
from apirec.stores.files import write_temp
from apirec.stores.gated import gated, gated_text
from apirec.stores.json_store import Store

FILE = ".apirec-transient"


def summary(error: BaseException) -> str:
    status = getattr(error, "status_code", None) or getattr(error, "status", None)
    text = str(error).splitlines()[0][:160] if str(error) else ""
    head = f"{type(error).__name__}" + (f" (HTTP {status})" if isinstance(status, int) else "")
    return f"{head}: {text}" if text else head


class TransientNotes:
    """The calls of one recording whose last outcome per key was a transient error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failed: dict[str, tuple[int, str, str]] = {}  # key -> (index, function, error)
        self.stored: set[str] = set()  # keys an answer was stored under

    def transient(self, call: Call, error: BaseException) -> None:
        """``call`` raised ``error``, which was not stored: noted when it is transient (not a
        ``store_errors=`` callable's refusal, nor apirec's own ``NetworkBlocked``)."""
        if not is_transient(error) or not should_store("all", error):
            return
        with self._lock:
            # the message may hold a credential (a URL's ?key=): what is noted, written and
            # printed is what the write gate lets through, the call's scrub= rules included
            text = gated_text(summary(error), call.rules)
            self.failed[call.key] = (call.index, call.function, text)

    @staticmethod
    def stored_at(store: Store, key: str, slot: int) -> bool:
        """Whether the store holds an answer at ``slot`` of ``key`` (damage: as if not)."""
        try:
            return store.read(key, slot, resolve_blobs=False) is not None
        except ApirecError:
            return False

    def saved(self, call: Call) -> None:
        with self._lock:
            self.stored.add(call.key)
            noted = self.failed.get(call.key)
            if noted is not None and noted[0] < call.index:  # a retry's answer: the final one
                del self.failed[call.key]

    def finals(self) -> list[tuple[str, str]]:
        """(function, error) of each key whose last call ended transiently."""
        return [(function, error) for _, function, error in self.failed.values()]

    def write(self, directory: Path) -> None:
        """Update the store's notes: this recording's added, those of keys it stored dropped."""
        with self._lock:
            failed = {k: {"function": f, "error": e} for k, (_, f, e) in self.failed.items()}
            dropped = self.stored - set(failed)
        if not failed and not dropped:
            return
        path = directory / FILE
        notes = read(directory)
        if not failed and not (dropped & set(notes)):
            return
        notes = {k: v for k, v in notes.items() if k not in dropped} | failed
        # advice only: a read-only store keeps its notes
        with contextlib.suppress(OSError, StoreError):
            if not notes:
                path.unlink(missing_ok=True)
                return
            directory.mkdir(parents=True, exist_ok=True)
            # through the write gate, as every entry (an older note's text too), and created
            # with the umask's mode as the recordings are
            data = json.dumps(gated(notes), indent=1, sort_keys=True).encode("utf-8")
            os.replace(write_temp(directory, data, path, prefix=FILE), path)


def read(directory: Path) -> dict[str, Any]:
    try:
        notes = json.loads((directory / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return notes if isinstance(notes, dict) else {}


def miss_lines(directory: Path, key: str) -> list[str]:
    """What a replay miss of ``key`` says when its recorded call ended in a transient error."""
    note = read(directory).get(key)
    if not isinstance(note, dict):
        return []
    error = gated_text(str(note.get("error")))  # a note written before the gate read it
    return [
        f"The recorded call ended in a transient error that was not stored: {error}.",
        "  Transient errors (HTTP 408/409/429/5xx, timeouts) are not stored, a retry's answer "
        "is; record again when the service answers, or store the error with "
        'store_errors="all".',
    ]


def warn_unstored(notes: TransientNotes, path: Path) -> None:
    """Outside pytest (whose plugin counts them in its summary), a recording that closes with
    calls whose last outcome was an unstored transient error says so now, not at replay."""
    finals = notes.finals()
    if not finals:
        return
    listed = "; ".join(f"{called(function)}: {error}" for function, error in finals[:5])
    more = f" (and {len(finals) - 5} more)" if len(finals) > 5 else ""
    n = len(finals)
    warnings.warn(
        TransientErrorWarning(
            f"apirec: {n} call{'' if n == 1 else 's'} recorded in {path} ended in a transient "
            f"error, which is not stored (a retry's answer is), so {'its' if n == 1 else 'their'}"
            f" replay will miss: {listed}{more}. Record again when the service answers, or "
            f'store the error with store_errors="all"',
            path=str(path),
        ),
        stacklevel=3,
    )
