"""How COMMAND will start Python, read before it runs: through ``env`` and its options, a
script's ``#!`` line and its options, and Python's own options (values included), so that
``apirec run`` can refuse a command whose Python would skip the bootstrap (and so run with
no recording, where a replay would go live)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Sequence

PYTHON = re.compile(r"python[0-9.]*[a-z]?(?:\.exe)?$")
# Python's options (3.11+): those that take a value, and those that end the options
_VALUED = set("WX")
_ENDING = set("cm")
_SKIPPING = {"I": "-I", "E": "-E", "S": "-S"}
_LONG_VALUED = {"--check-hash-based-pycs"}
# what must reach Python as apirec run set it
_KEPT = ("PYTHONPATH", "APIREC_RUN")
# env's options that take a value (short, long)
_ENV_VALUED = {"-u": "--unset", "-C": "--chdir", "-S": "--split-string"}


class Resolved:
    """``argv``: the Python command line COMMAND comes to (None: not Python, or unknown);
    ``skipped``: why that Python would run without the bootstrap, if it would."""

    def __init__(self, argv: list[str] | None, skipped: str | None = None) -> None:
        self.argv = argv
        self.skipped = skipped


def resolve(command: Sequence[str], depth: int = 0) -> Resolved:
    if not command or depth > 4:
        return Resolved(None)
    first = command[0]
    name = os.path.basename(first)
    if PYTHON.match(name):
        return Resolved([shutil.which(first) or first, *command[1:]], skipped(command[1:]))
    if name == "env":
        return _through_env(command[1:], depth)
    path = shutil.which(first)
    words = _shebang(path) if path else None
    if words:
        # the kernel runs the #! line's program with its words, then the script's path
        return resolve([*words, path or first, *command[1:]], depth + 1)
    return Resolved(None)


def skipped(options: Sequence[str]) -> str | None:
    """The option among Python's own (before the script, ``-m`` or ``-c``) that skips
    ``PYTHONPATH`` or ``site``: ``-I``, ``-E``, ``-S``; None if there is none."""
    rest = iter(options)
    for arg in rest:
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            return None  # the script, or the end of the interpreter's options
        if arg.startswith("--"):
            option = arg.split("=", 1)[0]
            if option in _LONG_VALUED and "=" not in arg:
                next(rest, None)
            continue
        for i, letter in enumerate(arg[1:]):
            if letter in _SKIPPING:
                return _SKIPPING[letter]
            if letter in _ENDING:
                return None  # what follows is the module or the code
            if letter in _VALUED:  # the rest of this argument, else the next one
                if i == len(arg) - 2:
                    next(rest, None)
                break
    return None


def _through_env(args: Sequence[str], depth: int) -> Resolved:
    """``env [OPTION]... [NAME=VALUE]... COMMAND``: what it changes that apirec needs."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-i", "--ignore-environment", "-"):
            return Resolved(None, f"env {arg} (it clears the environment)")
        if arg == "--":
            i += 1
            break
        valued = next((s for s, long in _ENV_VALUED.items() if arg in (s, long)), None)
        long_form = next((s for s, long in _ENV_VALUED.items() if arg.startswith(long + "=")), None)
        short_form = next(
            (s for s in _ENV_VALUED if arg.startswith(s) and len(arg) > 2 and arg[:2] == s), None
        )
        if valued or long_form or short_form:
            flag = valued or long_form or short_form
            if valued:
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 2
            else:
                value = arg.split("=", 1)[1] if long_form else arg[2:]
                i += 1
            if flag == "-u" and value in _KEPT:
                return Resolved(None, f"env -u {value}")
            if flag == "-S":  # split into more arguments, read as env would
                return _through_env([*shlex.split(value), *args[i:]], depth)
            continue
        if arg.startswith("-"):
            i += 1  # -0, -v, --debug, --block-signal...: nothing apirec needs
            continue
        break
    while i < len(args) and "=" in args[i] and not args[i].startswith("="):
        name = args[i].split("=", 1)[0]
        if name in _KEPT:
            return Resolved(None, f"env {name}=... (it replaces what apirec run set)")
        i += 1
    return resolve(args[i:], depth + 1)


def _shebang(path: str) -> list[str] | None:
    try:
        with open(path, "rb") as script:
            first = script.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    # Linux passes the rest of the line as one argument; split it all the same, so an option
    # anywhere on the line is seen
    return first[2:].decode("utf-8", "replace").split() or None
