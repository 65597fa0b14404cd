"""What every command and the dispatcher share without importing any store: exit codes, the
usage error, the one way to print an error."""

from __future__ import annotations

import sys

OK, PROBLEMS, USAGE = 0, 1, 2

# apirec.stores.msgpack.FILE_NAME (tests/test_cli_startup.py checks they agree), named here so
# that listing a directory of JSON recordings does not import msgpack
MSGPACK_FILE = "recordings.apirec"


class UsageError(Exception):
    """A command line that cannot be acted on: exit code 2."""


def terminal_width() -> int | None:
    """The width tables and reports fit when the output is a terminal: ``COLUMNS``, else the
    terminal's. None otherwise, so a pipe or a file gets every cell whole."""
    try:
        if not sys.stdout.isatty():
            return None
    except (ValueError, AttributeError):  # closed, or replaced by something without isatty
        return None
    import shutil

    return shutil.get_terminal_size().columns


def plural(n: int, what: str) -> str:
    """``1 recording``, ``2 recordings``, ``10,000 recordings``."""
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def error(message: str) -> None:
    print(f"apirec: {message}", file=sys.stderr)
