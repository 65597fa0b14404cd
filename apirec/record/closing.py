"""What happens as a recording opens, misses and closes: observers are told of each (the pytest
plugin's session bookkeeping, whoever opened the recording); as it closes, the errors of
finishing its streams come first, and a recording in a recording mode that intercepted no call
warns (:class:`apirec.NothingRecordedWarning`)."""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from apirec.errors import NothingRecordedWarning
from apirec.record.modes import Mode

if TYPE_CHECKING:  # the pytest plugin's start-up imports this module: it must stay light
    from apirec.errors import BudgetExceeded, RecordingNotFound, StoreError

    # what a test's code may swallow (``except Exception``) though its test must fail
    Caught = RecordingNotFound | StoreError | BudgetExceeded
    from apirec.record.calls import Stats
    from apirec.record.settings import Settings


class Recording(Protocol):
    """What is told of a recording that closed (:class:`apirec.Recording` is one); a protocol,
    as the recorder imports this module."""

    mode: Mode
    settings: Settings
    stats: Stats
    used: set[tuple[str, int]]
    warn_if_nothing_recorded: bool

    @property
    def intercepted(self) -> bool: ...


# Told of every recording as it closes (the pytest plugin counts what each used). Process-wide
# like the stacks in apirec.record.context, and for the same reason: a recording closes in
# whatever context the code that opened it runs in.
_observers: list[Callable[[Recording], None]] = []


def observe_closing(observer: Callable[[Recording], None]) -> Callable[[], None]:
    """Call ``observer(recording)`` each time a recording closes; returns the undo."""
    _observers.append(observer)
    return lambda: _observers.remove(observer)


# Told of every recording as it opens (not again while it is open) and of every replay miss, in
# the context of the call that missed, so the observer can tell which test made it.
_opening: list[Callable[[Recording], None]] = []
_missing: list[Callable[[Caught], None]] = []


def observe_opening(observer: Callable[[Recording], None]) -> Callable[[], None]:
    """Call ``observer(recording)`` each time a recording opens; returns the undo."""
    _opening.append(observer)
    return lambda: _opening.remove(observer)


def observe_misses(observer: Callable[[Caught], None]) -> Callable[[], None]:
    """Call ``observer(error)`` for each replay miss, each stored answer that could not be
    read (a payload missing from the remote) and each call the record budget refused,
    before it is raised; returns the undo."""
    _missing.append(observer)
    return lambda: _missing.remove(observer)


def opened(rec: Recording) -> None:
    """``rec`` has just opened."""
    for observer in list(_opening):
        observer(rec)


def missed(error: Caught) -> None:
    """A call missed (every miss passes here: ``Answers.missed``), its stored answer could
    not be read (``Answers.lookup``), or the record budget refused it (``Budget``)."""
    for observer in list(_missing):
        observer(error)


def closed(rec: Recording, *, failed: bool) -> None:
    """``rec`` has just closed (``failed``: its block raised)."""
    for observer in list(_observers):
        observer(rec)
    # A block that failed already tells its story; a warning (an error under -W error) would
    # only hide it.
    if failed or not rec.warn_if_nothing_recorded or rec.intercepted:
        return
    if rec.mode in (Mode.RECORD, Mode.RECORD_IF_MISSING):
        path = str(rec.settings.path)
        warnings.warn(
            NothingRecordedWarning(
                f"apirec: the recording {path} (mode {rec.mode}) intercepted no call, so "
                f"nothing was recorded: decorate the function with @apirec.record or patch "
                f"it (rec.patch), and call it inside the block",
                path=path,
            ),
            stacklevel=_caller_level(),
        )


def _caller_level() -> int:
    """The stack level of the code that closed the recording (its ``with`` or caller)."""
    here = os.path.dirname(__file__)  # apirec/record: the recorder's own frames are skipped
    frame = inspect.currentframe()
    level = 0  # this frame is not on the warning's stack; the one calling warn() is 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == here:
        frame, level = frame.f_back, level + 1
    return level


def interruption(exc_info: tuple[object, ...]) -> BaseException | None:
    """Leaving on cancellation or Ctrl-C: no time to read the rest of open streams."""
    error = exc_info[1] if len(exc_info) > 1 else None
    if isinstance(error, BaseException) and not isinstance(error, Exception):
        return error
    return None


def raise_first(errors: list[Exception]) -> None:
    if errors:
        first = errors[0]
        for other in errors[1:]:
            first.add_note(f"apirec: also, while finishing streams: {other!r}")
        raise first
