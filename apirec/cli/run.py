"""``apirec run [options] -- COMMAND...``: a program run with a recording active in it and in
every Python process it starts (see :mod:`apirec.servers.launcher`); its arguments are in
:mod:`apirec.cli.parser`."""

from __future__ import annotations

import argparse

from apirec.cli.base import UsageError
from apirec.errors import ApirecError


def run(args: argparse.Namespace) -> int:
    from apirec.record.settings import split_hosts
    from apirec.servers.launcher import (
        cannot_import_apirec,
        interpreter,
        launch,
        python_command,
        site_skipped,
    )
    from apirec.servers.run_settings import RunSettings

    command = list(args.program)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise UsageError("run: no COMMAND given (apirec run [options] -- COMMAND...)")
    skipped = site_skipped(python_command(command))
    if skipped:
        raise UsageError(
            f"run: COMMAND starts Python with {skipped}, which skips PYTHONPATH or site (or the "
            f"variables apirec run sets), so apirec could not open its recording in it; run "
            f"it without {skipped}"
        )
    python = interpreter(python_command(command))
    problem = cannot_import_apirec(python) if python else None
    if problem:
        raise UsageError(
            f"run: COMMAND runs in {python}, which cannot import apirec ({problem}), so it "
            f"would run with no recording: install apirec there, or run it with this Python "
            f"(apirec run -- app.py, or -- -m module)"
        )
    names = None
    if args.integrations:
        names = [n for value in args.integrations for n in split_hosts(value)]
    try:
        settings = RunSettings.resolve(
            mode=args.mode, dir=args.dir, store=args.store, integrations=names
        )
    except (ApirecError, ValueError) as e:
        raise UsageError(f"run: {e}") from None
    try:
        return launch(settings, command)
    except OSError as e:
        raise UsageError(f"run: cannot run {command[0]!r}: {e.strerror or e}") from None
