"""``apirec run``'s launcher: the command, with the environment that makes every Python
process under it open the recording.

Why a ``sitecustomize`` on ``PYTHONPATH`` (the way coverage.py measures subprocesses): it
is the one hook every CPython runs at start-up, before ``__main__``, in whatever way the
process was started (a script, ``-m``, a console script's shebang, ``multiprocessing``'s
spawn, uvicorn's workers and reloader), it is inherited by children through the
environment, and it needs nothing installed (a ``.pth`` file would sit in site-packages and
run in every Python of the environment, asked or not). Processes started with ``-I``, ``-E``
or ``-S`` skip it, as they skip ``PYTHONPATH``.

The launcher then becomes the command (``exec``): same process id, signals go straight to it,
and its exit status is the command's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from apirec.record.modes import ENV_VAR as ENV_MODE
from apirec.servers.run_settings import ENV_RUN, RunSettings

BOOTSTRAP_DIR = str(Path(__file__).resolve().parent / "bootstrap")
_PYTHON = re.compile(r"python[0-9.]*(?:\.exe)?$")


def site_skipped(argv: Sequence[str]) -> str | None:
    """The option of a ``python ...`` command line that keeps the bootstrap from running
    (``-I``, ``-E``: ``PYTHONPATH`` ignored; ``-S``: no ``site``), if any. Such a program
    would run with no recording, so a replay could reach the network: refused up front."""
    if not _PYTHON.match(os.path.basename(argv[0])):
        return None
    rest = iter(argv[1:])
    for arg in rest:
        if not arg.startswith("-") or arg.startswith("--") or arg == "-":
            return None  # the script, or the end of the interpreter's options
        for i, letter in enumerate(arg[1:]):
            if letter in "IES":
                return f"-{letter}"
            if letter in "mc":
                return None  # what follows is the module or the code
            if letter in "WX":  # takes a value: the rest of this argument, else the next
                if i == len(arg) - 2:
                    next(rest, None)
                break
    return None


def interpreter(argv0: str) -> str | None:
    """The Python COMMAND runs in, when it can be told: a ``python`` executable, or the ``#!``
    line of a script (a console script such as ``uvicorn``)."""
    path = shutil.which(argv0)
    if path is None:
        return None
    if _PYTHON.match(os.path.basename(path)):
        return path
    try:
        with open(path, "rb") as script:
            first = script.readline(512)
    except OSError:
        return None
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    if len(words) > 1 and os.path.basename(words[0]) == "env":
        words = [shutil.which(words[1]) or words[1]]
    if words and _PYTHON.match(os.path.basename(words[0])):
        return words[0]
    return None


def cannot_import_apirec(python: str) -> str | None:
    """Why ``python`` cannot run the bootstrap (it lacks apirec), or None. A Python of this
    environment (beside this one) is taken as able; another one is asked."""
    here = os.path.dirname(os.path.abspath(sys.executable))
    if os.path.dirname(os.path.abspath(python)) == here:
        return None
    env = {k: v for k, v in os.environ.items() if k != ENV_RUN}
    try:
        done = subprocess.run(
            [python, "-c", "import apirec.servers.process"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def python_command(command: Sequence[str]) -> list[str]:
    """``app.py ...``, ``-m module ...`` and ``-c code`` run with this Python; anything else
    (``python app.py``, ``uvicorn app:app``, a console script) as it is."""
    first = command[0]
    if first in ("-m", "-c") or first.endswith(".py"):
        return [sys.executable, *command]
    return list(command)


def environment(settings: RunSettings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (the current environment) with the run's settings and the bootstrap first on
    ``PYTHONPATH``. ``APIREC_MODE`` is set too, so recordings the program opens itself follow
    the run's mode."""
    env = dict(os.environ if base is None else base)
    env[ENV_RUN] = settings.to_env()
    env[ENV_MODE] = settings.mode
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != BOOTSTRAP_DIR]
    env["PYTHONPATH"] = os.pathsep.join([BOOTSTRAP_DIR, *rest])
    return env


def launch(settings: RunSettings, command: Sequence[str]) -> int:
    """Run ``command`` under ``settings``: on POSIX the launcher becomes it (no return);
    elsewhere its exit code is returned. A command that cannot be found raises OSError."""
    argv = python_command(command)
    env = environment(settings)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(argv[0], argv, env)
    return subprocess.call(argv, env=env)  # pragma: no cover - Windows: no exec
