"""What a replay miss says to run to record the call, for a recording whose opener gave no
command of its own (the pytest plugin's fixture gives one: ``Settings.extra["record_command"]``).

Every command printed must work when pasted (issue 20), so the advice follows the layers:

* the command is the running test's when a pytest run says how (:func:`command_with`: the
  plugin's, which names the test), not the whole run the process was started with; else the
  process's own command line, with ``APIREC_MODE`` set;
* a mode given as ``mode=`` in the code wins over ``APIREC_MODE`` and ``--apirec-mode``
  (:mod:`apirec.record.layers`), so no variable or option can record it: the advice says to
  change the argument, at the file and line of the call that opened the recording
  (:func:`argument_site`, noted as the recording is built: two attribute reads per frame).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Mapping
from typing import Any

# Settings.extra's name for where mode= was given in the code: (file, line), or None
MODE_ARGUMENT = "mode_argument"
_APIREC = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# The command of the test running now (when none runs, of the pytest run), with
# ``--apirec-mode=MODE`` (None: no mode option), or None outside pytest; the pytest plugin's,
# registered while it is configured. Process-wide like the observers of apirec.record.closing,
# for the same reason: a miss happens in whatever context the code that opened the recording
# runs in.
TestCommand = Callable[[str | None], str | None]
_test_commands: list[TestCommand] = []


def command_with(provider: TestCommand) -> Callable[[], None]:
    """Word the advice with ``provider``'s command while it is registered; returns the undo."""
    _test_commands.append(provider)
    return lambda: _test_commands.remove(provider)


def argument_site() -> tuple[str, int] | None:
    """The file and line of the first caller outside apirec: the ``apirec.recording(...)``
    (or ``Recording(...)``) call whose ``mode=`` argument is being read."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_APIREC):
        frame = frame.f_back  # type: ignore[assignment]
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def default_record_command(mode: str | None = "record-if-missing") -> str:
    """The command that records: under pytest, the plugin's (the running test's, else the
    run's, as it was typed: a pytest-xdist worker's own command line is its start-up line);
    else the command that is running, with the mode set in the environment."""
    under_test = _test_command(mode)
    if under_test:
        return under_test
    argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return (f"APIREC_MODE={mode} " if mode else "") + shlex.join(argv)


def _test_command(mode: str | None) -> str | None:
    for provider in reversed(_test_commands):
        command = provider(mode)
        if command:
            return command
    return None


def _shown(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative.startswith("..") else relative


def record_advice(extra: Mapping[str, Any], mode: str = "record-if-missing") -> str:
    """The command (or the change, then the command) that records a missed call."""
    given = extra.get("record_command")
    if isinstance(given, str) and given:
        return given
    if MODE_ARGUMENT not in extra:
        return default_record_command(mode)
    site = extra[MODE_ARGUMENT]
    in_test = _test_command(None)
    where = f" at {_shown(site[0])}:{site[1]}" if site else ""
    overrides = "APIREC_MODE and --apirec-mode" if in_test else "APIREC_MODE"
    return (
        f"set mode='{mode}' in the apirec.recording(...) call{where} (its mode= overrides "
        f"{overrides}), then: {in_test or default_record_command(None)}"
    )
