"""Errors raised by apirec.

All of them derive from one base, so ``except apirec.ApirecError`` catches everything apirec
itself raises::

    ApirecError
     ├── InvalidMode            (also ValueError)   unknown mode name
     ├── InvalidStore           (also ValueError)   unknown store kind
     ├── InvalidExpiry          (also ValueError)   a max_age or on_expired apirec cannot read
     ├── NetworkBlocked         (also ConnectionError) replay tried to reach the network
     ├── RecordingNotFound      (also AssertionError) replay asked for a call never recorded
     │    ├── IncompleteRecording                  replay read past a stream stored truncated
     │    ├── ExpiredRecording                     the stored answer is older than max_age
     │    └── SequenceExhausted                    one call more than answers were recorded
     ├── UnhashableArgument     (also TypeError)    an argument with no canonical form
     ├── EncodeError            (also TypeError)    a result apirec cannot store
     ├── DecodeError                                a stored value that cannot be rebuilt
     ├── StoreError             (also OSError)      a recording that cannot be read or written
     └── ReplayedError                              a recorded exception whose class is unknown

and three warnings, which are not errors (``UserWarning``)::

    NothingRecordedWarning                          a record-mode recording got no call
    TransientErrorWarning                           a call's last outcome, transient, not stored
    ExpiredRecordingWarning                         replayed an answer older than max_age
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


class ApirecError(Exception):
    """Base class of every error apirec raises."""


class InvalidMode(ApirecError, ValueError):
    """A mode name that is not one of apirec's modes."""


class InvalidStore(ApirecError, ValueError):
    """A store kind that is not one of apirec's stores."""


class RecordingNotFound(ApirecError, AssertionError):
    """Replay mode met a call that has no stored answer.

    Carries ``function``, ``key``, ``arguments`` (the canonical arguments) and ``location``
    (the store) as attributes, so tools and the pytest plugin can build their own reports.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str = "",
        key: str = "",
        arguments: Mapping[str, Any] | None = None,
        location: str = "",
        test_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.function = function
        self.key = key
        self.arguments = dict(arguments or {})
        self.location = location
        self.test_id = test_id


class IncompleteRecording(RecordingNotFound):
    """Replay read past the end of a stream that was stored truncated.

    The stream was cut while it was recorded (cancellation, Ctrl-C, the bound on reading the
    rest, an error while reading the rest): its recorded chunks replay, what came after them
    was never recorded. ``file`` names the recording; ``reason`` says why it was cut.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        reason: str = "",
        **call: Any,  # the call's function, key, arguments... as for RecordingNotFound
    ) -> None:
        super().__init__(message, **call)
        self.file = file
        self.reason = reason


class InvalidExpiry(ApirecError, ValueError):
    """A ``max_age`` or ``on_expired`` value that apirec cannot read; says which option."""


class ExpiredRecording(RecordingNotFound):
    """The stored answer for a call is older than the recording's ``max_age`` and
    ``on_expired`` is ``"fail"`` (or ``"record"`` in replay mode, which cannot record).

    ``file`` names the recording, ``age`` and ``max_age`` are ``datetime.timedelta`` values and
    ``recorded_at`` the stored time; the call's ``function``, ``key``... as for
    :class:`RecordingNotFound`.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        age: dt.timedelta | None = None,
        max_age: dt.timedelta | None = None,
        recorded_at: str = "",
        **call: Any,  # the call's function, key, arguments... as for RecordingNotFound
    ) -> None:
        super().__init__(message, **call)
        self.file = file
        self.age = age
        self.max_age = max_age
        self.recorded_at = recorded_at


class SequenceExhausted(RecordingNotFound):
    """Replay met one call more than were recorded: call ``call_number`` (from 1) of a key
    whose recorded sequence holds ``recorded`` answers. The code under test now makes the
    call more often than when it was recorded; ``repeats="last"`` replays the last answer
    again instead. The call's ``function``, ``key``... as for :class:`RecordingNotFound`.
    """

    def __init__(
        self,
        message: str,
        *,
        call_number: int = 0,
        recorded: int = 0,
        **call: Any,  # the call's function, key, arguments... as for RecordingNotFound
    ) -> None:
        super().__init__(message, **call)
        self.call_number = call_number
        self.recorded = recorded


class UnhashableArgument(ApirecError, TypeError):
    """An argument has no canonical form, so no stable key can be computed for the call."""

    def __init__(self, message: str, *, parameter: str = "", type_name: str = "") -> None:
        super().__init__(message)
        self.parameter = parameter
        self.type_name = type_name


class EncodeError(ApirecError, TypeError):
    """A value returned by a recorded call has a type apirec does not know how to store."""


class DecodeError(ApirecError):
    """A stored value cannot be turned back into its type.

    ``file`` is the recording it came from (when known), ``place`` a JSON path inside the
    stored data (``$.response.body[3].choices``) and ``type_name`` the type it names.
    """

    def __init__(
        self, reason: str, *, file: str | None = None, place: str = "$", type_name: str = ""
    ) -> None:
        self.reason = reason
        self.file = file
        self.place = place
        self.type_name = type_name
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.file} at {self.place}" if self.file else f"at {self.place}"
        kind = f" (type {self.type_name})" if self.type_name else ""
        return f"cannot decode {where}{kind}: {self.reason}"

    def located(self, *, file: str | None = None, prefix: str = "") -> DecodeError:
        """Return this error with the file and an outer path prefix filled in."""
        if file is not None and self.file is None:
            self.file = file
        if prefix:
            self.place = prefix + self.place[1:]
        self.args = (self._render(),)
        return self


class NetworkBlocked(ApirecError, ConnectionError):
    """A connection (or a name lookup) attempted under replay to a host the recording does
    not allow: a call went past the recording's patches.

    A ``ConnectionError`` because that is what code expects of a failed connect: the standard
    library and HTTP clients close the socket and report their own connection error (the
    openai SDK's ``APIConnectionError``, with this as its cause), and retry only as often as
    they retry a refused connection, at once, never waiting for a timeout. The pytest plugin
    fails the test at teardown even when the code under test swallowed it.

    ``host``, ``port`` (None when unknown), ``recording`` (the directory of the recording that
    blocked it) and ``action`` (``"connect"``, ``"resolve"`` or ``"send"``) as attributes.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str = "",
        port: int | str | None = None,
        recording: str = "",
        action: str = "connect",
    ) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.recording = recording
        self.action = action

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class BudgetExceeded(ApirecError):
    """The live calls of a run have spent its recording budget (``--apirec-record-budget``):
    a further live call is refused before it is made, so nothing is half-written.

    ``budget`` is the budget as given (``"200k"`` tokens or ``"$2.50"``), ``spent`` what the
    run's recorded answers spent, in the same unit (``"201.3k tokens"``, ``"$2.61"``).
    """

    def __init__(self, message: str, *, budget: str = "", spent: str = "") -> None:
        super().__init__(message)
        self.budget = budget
        self.spent = spent

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StoreError(ApirecError, OSError):
    """A recording cannot be read or written (unreadable, malformed, permission, full disk)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ReplayedError(ApirecError):
    """A recorded exception whose class could not be rebuilt safely on replay.

    ``type_name`` is the original class as ``module.QualName``, ``message`` its text and
    ``attributes`` the simple public attributes that were recorded (``status_code``, ``body``).
    """

    def __init__(
        self, type_name: str, message: str, attributes: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.attributes = dict(attributes or {})

    def __getattr__(self, name: str) -> Any:
        attributes = self.__dict__.get("attributes", {})
        if name in attributes:
            return attributes[name]
        raise AttributeError(name)


class NothingRecordedWarning(UserWarning):
    """A recording in ``record`` or ``record-if-missing`` mode closed without intercepting a
    single call: nothing was stored in ``path`` (the function is not decorated or patched, or
    it was called outside the block). Not raised when the block ended with an exception."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class TransientErrorWarning(UserWarning):
    """A recording closed with calls whose last outcome was a transient error (HTTP 429, 5xx,
    a timeout), which is not stored: their replay will miss. ``path`` names the store. Warned
    outside pytest, whose plugin counts these errors in its summary; not when the block ended
    with an exception."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class ExpiredRecordingWarning(UserWarning):
    """A replayed answer is older than the recording's ``max_age`` (``on_expired="warn"``).

    ``file`` names the recording; ``age`` and ``max_age`` are ``datetime.timedelta`` values.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        age: dt.timedelta | None = None,
        max_age: dt.timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.age = age
        self.max_age = max_age


def called(name: str) -> str:
    """``chat()`` for a function's name in a message; a request's name as it is, with no
    stray ``()`` (``openai GET /models``: a request made outside any SDK method)."""
    return name if " " in name else name + "()"


def command(*words: object) -> str:
    """A command as messages print it, to be pasted into a shell (issue 20): each word quoted
    as the shell needs (``shlex.join``), and a path that starts with ``-`` made ``./-name``,
    so the command does not take it for an option. Options are words of their own: only a
    word given as a ``Path`` is made safe, a string is the caller's as given."""
    shown = [
        f"./{w}" if isinstance(w, PurePath) and str(w).startswith("-") else str(w) for w in words
    ]
    return shlex.join(shown)
