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
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from apirec.record.modes import ENV_VAR as ENV_MODE
from apirec.servers.python_argv import resolve
from apirec.servers.run_settings import ENV_RUN, RunSettings

BOOTSTRAP_DIR = str(Path(__file__).resolve().parent / "bootstrap")


def site_skipped(argv: Sequence[str]) -> str | None:
    """Why COMMAND's Python would skip the bootstrap (``-I``, ``-E``: ``PYTHONPATH``
    ignored; ``-S``: no ``site``; also on a script's ``#!`` line, or through ``env`` that
    clears or replaces the environment), if it would. Such a program would run with no
    recording, so a replay could reach the network: refused up front."""
    return resolve(argv).skipped


def interpreter(argv: Sequence[str]) -> str | None:
    """The Python COMMAND runs in, when it can be told: a ``python`` executable, the ``#!``
    line of a script (a console script such as ``uvicorn``), through ``env``."""
    found = resolve(argv).argv
    return found[0] if found else None


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
