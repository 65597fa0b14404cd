"""Expiry (DESIGN §11): what a recording does with a stored answer older than ``max_age``.

``on_expired`` says what:

* ``"warn"`` (the default): replay it, with an :class:`~apirec.ExpiredRecordingWarning` naming
  the file and its age (once per answer and recording);
* ``"fail"``: raise :class:`~apirec.ExpiredRecording` (a ``RecordingNotFound``: the test
  fails, and fails at teardown too if the code under test swallowed it);
* ``"record"``: in ``record-if-missing`` mode, call through and store the new answer in the
  expired one's place, leaving every other answer alone. Replay mode cannot call through, so
  there it fails as ``"fail"`` does, saying how to re-record. (``record`` mode records every
  call anyway, and ``live`` reads nothing: expiry does not apply to them.)

The age is ``now - recorded_at``. An answer without ``recorded_at`` (recorded before apirec
stored it, or by another recorder) has an unknown age and never expires: the file's mtime is
the time of the git checkout, not of the recording, so it would make the verdict depend on
the machine rather than on the repository.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import re
import shlex
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from apirec.errors import ExpiredRecording, ExpiredRecordingWarning, InvalidExpiry, command
from apirec.record.layers import first_given
from apirec.record.modes import Mode
from apirec.stores.metadata import RECORDED_AT, format_age, recorded_at

ON_EXPIRED = ("warn", "fail", "record")
# a max_age that turns expiry off over the layers below (the marker's max_age=None)
NEVER = dt.timedelta.max
ENV_MAX_AGE = "APIREC_MAX_AGE"
ENV_EXPIRED = "APIREC_EXPIRED"
_AGE = re.compile(r"(\d+)([wdhms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_max_age(value: Any, source: str = "max_age") -> dt.timedelta | None:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"1d12h"`` (units w d h m s) or a ``timedelta``."""
    if value is None or isinstance(value, dt.timedelta):
        if value is not None and value < dt.timedelta(0):
            raise InvalidExpiry(f"{source}: {value!r} is negative; an age is 0 or more")
        return value
    text = value.strip() if isinstance(value, str) else None
    if text and _AGE.sub("", text) == "":
        return dt.timedelta(
            seconds=sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _AGE.findall(text))
        )
    raise InvalidExpiry(
        f"{source}: {value!r} is not an age. Write a number and a unit, such as 30d, 12h or "
        f"90m (units: w d h m s, lower case; m is minutes), or pass a datetime.timedelta"
    )


def layered(max_age: Any, on_expired: Any) -> tuple[dt.timedelta | None, str]:
    """The given values, else ``APIREC_MAX_AGE`` / ``APIREC_EXPIRED``, else no expiry and
    ``"warn"``; each checked, an error naming where it came from."""
    given_age = first_given(argument=("max_age", max_age), environment=ENV_MAX_AGE)
    age = None if given_age is None else parse_max_age(given_age.value, given_age.source)
    action = first_given(argument=("on_expired", on_expired), environment=ENV_EXPIRED)
    return age, "warn" if action is None else parse_on_expired(action.value, action.source)


def _caller_level() -> int:
    """The stack level of the first frame outside apirec: the line that made the call."""
    package = os.path.dirname(os.path.dirname(__file__)) + os.sep
    frame = inspect.currentframe()
    level = 0  # this frame is not on the warning's stack; the one calling warn() is 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def parse_on_expired(value: Any, source: str = "on_expired") -> str:
    if value in ON_EXPIRED:
        return str(value)
    raise InvalidExpiry(
        f"{source}: {value!r} is not a valid on_expired. Valid values are: {', '.join(ON_EXPIRED)}"
    )


@dataclass
class Expiry:
    """One recording's judge of stored answers' ages (only made when ``max_age`` is set)."""

    max_age: dt.timedelta
    on_expired: str
    mode: Mode
    record_command: str | None = None
    # the caller's whole advice, when its own layers fix what record_command would change
    advice: str | None = None

    def __post_init__(self) -> None:
        self._warned: set[str] = set()

    @classmethod
    def of(
        cls, max_age: dt.timedelta | None, on_expired: str, mode: Mode, extra: Mapping[str, Any]
    ) -> Expiry | None:
        """The judge for a recording's settings; None when nothing can expire."""
        if max_age is None or max_age == NEVER or mode in (Mode.RECORD, Mode.LIVE, Mode.COMPARE):
            return None
        advice = extra.get("expired_advice")
        return cls(max_age, on_expired, mode, extra.get("record_command"), advice)

    def expired(self, entry: Mapping[str, Any]) -> dt.timedelta | None:
        """The answer's age when it is past ``max_age``, else None (also when unknown)."""
        when = recorded_at(entry)  # checked when the recording was read
        if when is None:
            return None
        age = dt.datetime.now(dt.UTC) - when
        return age if age > self.max_age else None

    def allows(
        self, entry: Mapping[str, Any], call: Any, where: Callable[[], str], store: Any
    ) -> bool:
        """Whether the stored answer for ``call`` (an ``apirec.record.stored_answers.Call``)
        replays: yes when it is not expired or ``on_expired`` warns; no when this call records
        it again; :class:`ExpiredRecording` when it fails."""
        __tracebackhide__ = True
        age = self.expired(entry)
        if age is None:
            return True
        if self.on_expired == "record" and self.mode is Mode.RECORD_IF_MISSING:
            return False
        self.judge(
            entry,
            age,
            where(),
            function=call.function,
            key=call.key,
            arguments=call.arguments,
            location=store.location,
            test_id=call.test_id,
        )
        return True

    def judge(self, entry: Mapping[str, Any], age: dt.timedelta, where: str, **call: Any) -> None:
        """Warn about an expired answer that replays, or raise :class:`ExpiredRecording`."""
        __tracebackhide__ = True
        recorded = str(entry.get(RECORDED_AT))
        said = (
            f"{where} was recorded {format_age(age)} ago ({recorded}), "
            f"more than max_age={format_age(self.max_age)}"
        )
        if self.on_expired == "warn":
            if where not in self._warned:
                self._warned.add(where)
                warnings.warn(
                    ExpiredRecordingWarning(
                        f"apirec: {said}; replayed all the same (on_expired='warn')",
                        file=where,
                        age=age,
                        max_age=self.max_age,
                    ),
                    stacklevel=_caller_level(),
                )
            return
        how = "re-record it in record-if-missing mode with on_expired='record'"
        if self.advice:
            how = self.advice
        elif self.record_command and self.record_command.startswith("pytest "):
            # the age too: without it nothing has expired, and the stored answer replays
            max_age = format_age(self.max_age).replace(" ", "")
            # in place of the run's own (the command carries the run's options)
            words = [
                w
                for w in shlex.split(self.record_command)
                if not w.startswith(("--apirec-max-age=", "--apirec-expired="))
            ]
            how += ": " + command(*words, f"--apirec-max-age={max_age}", "--apirec-expired=record")
        if self.on_expired == "record":  # replay mode: no call may go through
            said += "; on_expired='record' cannot record it in replay mode"
        raise ExpiredRecording(
            f"{call.get('function', '?')}(): {said}; {how}, or delete the file to record it afresh",
            file=where,
            age=age,
            max_age=self.max_age,
            recorded_at=recorded,
            **call,
        )
