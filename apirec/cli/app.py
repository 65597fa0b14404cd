"""The ``apirec`` command line (also ``python -m apirec``).

Exit codes: 0 ok, 1 problems found, 2 usage error. The parser is argparse alone
(:mod:`apirec.cli.parser`); a command's module, and the stores and codec it reads with, are
imported only when that command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from apirec.cli.base import USAGE, UsageError, error
from apirec.cli.parser import build
from apirec.errors import StoreError

Command = Callable[[argparse.Namespace], int]

# command -> (module under apirec.cli, function)
_COMMANDS = {
    "ls": ("inspect", "ls"),
    "show": ("inspect", "show"),
    "diff": ("inspect", "diff"),
    "verify": ("verify", "verify"),
    "repair": ("repair", "repair"),
    "prune": ("maintain", "prune"),
    "convert": ("maintain", "convert"),
    "drift": ("drift", "drift"),
    "scan": ("scan", "scan"),
    "run": ("run", "run"),
    "stats": ("stats", "stats"),
    "push": ("transfer", "push"),
    "pull": ("transfer", "pull"),
    "gc": ("remote_gc", "gc"),
}


def _command(name: str) -> Command:
    module, function = _COMMANDS[name]
    command: Command = getattr(importlib.import_module(f"apirec.cli.{module}"), function)
    return command


def _demo_directory(keep: str) -> Path:
    """The demo writes only to a new or empty directory: it never mixes with recordings."""
    directory = Path(keep)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(f"demo --keep {keep}: give a new or empty directory")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = build()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if args.command == "demo":
        from apirec.demo import run

        try:
            return run(_demo_directory(args.keep) if args.keep else None)
        except UsageError as e:
            error(str(e))
            return USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return _command(args.command)(args)
    except UsageError as e:
        error(str(e))
        return USAGE
    except StoreError as e:
        error(str(e))
        return 1
    except BrokenPipeError:  # `apirec ls | head`
        sys.stderr.close()
        return 0
