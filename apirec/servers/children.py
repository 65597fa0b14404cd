"""A Python child started with an environment of its own keeps ``apirec run``'s bootstrap.

``subprocess.run(argv, env={"PATH": ...})`` is a common way to start a worker, and it drops
``APIREC_RUN`` and ``PYTHONPATH``: the child would run with no recording and no network
guard, and a replay would go live, silently. So in every process of the run,
``subprocess.Popen`` (which ``run``, ``call``, ``check_output`` and asyncio's subprocesses go
through) puts the run's variables back into an explicit ``env`` that lacks them: ``APIREC_RUN``,
the bootstrap on ``PYTHONPATH``, and every other ``APIREC_*`` variable the process started with
(the mode, and the settings a pytest run hands its programs: the record budget and its spend
file, replay timing, expiry, ...; see apirec.pytest.environment). A child
started by other means (``os.execve``, ``os.posix_spawn`` with an environment of its own)
is not covered: docs/servers.md says so.
"""

from __future__ import annotations

import inspect
import os
import subprocess
from collections.abc import Mapping
from typing import Any

from apirec.record.modes import ENV_VAR as ENV_MODE
from apirec.servers.run_settings import ENV_RUN

_PATCHED = "_apirec_keeps_bootstrap"


def run_variables(run_value: str, mode: str) -> dict[str, str]:
    """The run's variables, as this process started: ``APIREC_RUN``, ``APIREC_MODE`` (the
    run's, resolved) and every other ``APIREC_*`` variable it was given."""
    found = {k: v for k, v in os.environ.items() if k.startswith("APIREC_")}
    return {**found, ENV_RUN: run_value, ENV_MODE: mode}


def keep_bootstrap(variables: Mapping[str, str], bootstrap_dir: str) -> None:
    """Patch ``subprocess.Popen`` once so that every explicit ``env`` keeps the run's
    ``variables`` (:func:`run_variables`) and the bootstrap on ``PYTHONPATH``."""
    popen: Any = subprocess.Popen
    original = popen._execute_child
    if getattr(original, _PATCHED, False):
        return

    # Popen.__init__ passes its arguments positionally: find env's place once
    at = list(inspect.signature(original).parameters).index("env")

    def _execute_child(self: Any, *args: Any) -> Any:
        if len(args) > at - 1 and args[at - 1] is not None:
            env = with_bootstrap(args[at - 1], variables, bootstrap_dir)
            args = (*args[: at - 1], env, *args[at:])
        return original(self, *args)

    setattr(_execute_child, _PATCHED, True)
    popen._execute_child = _execute_child


def with_bootstrap(
    env: Mapping[Any, Any], variables: Mapping[str, str], bootstrap_dir: str
) -> dict[Any, Any]:
    """``env`` with the run's ``variables`` added where it lacks them (a child's own
    ``APIREC_RUN`` is kept: it chose its run, and its own value of any other wins)."""
    as_bytes = any(isinstance(key, bytes) for key in env)
    text = {
        (k.decode() if isinstance(k, bytes) else str(k)): (
            v.decode() if isinstance(v, bytes) else str(v)
        )
        for k, v in env.items()
    }
    if text.get(ENV_RUN):
        return dict(env)
    for name, value in variables.items():
        text.setdefault(name, value)
    text[ENV_RUN] = variables[ENV_RUN]  # an empty one chose nothing
    rest = [p for p in text.get("PYTHONPATH", "").split(os.pathsep) if p and p != bootstrap_dir]
    text["PYTHONPATH"] = os.pathsep.join([bootstrap_dir, *rest])
    if as_bytes:
        return {k.encode(): v.encode() for k, v in text.items()}
    return text
