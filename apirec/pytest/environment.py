"""The one place the run's settings leave the plugin: the ``APIREC_*`` variables it sets for
the run, and putting them back when pytest unconfigures.

The plugin's fixture gets every layer (marker > command line > ini > environment) from
:func:`apirec.pytest.plugin.settings_for`. A recording opened anywhere else (a conftest's
``apirec.recording(dir)``, a program a test starts under ``apirec run``, a child process)
reads only its own arguments and the environment, so the run hands it its settings there,
all at once, when the plugin configures (:func:`export`):

* every run-level option given on the command line, as the variable the recorder reads
  (``--apirec-mode`` as ``APIREC_MODE``, ...: :data:`COMMAND_LINE`). The ini file's values
  stay the plugin's: a project's ini is read by every pytest session in it, the environment
  by every process the run starts (an inner session of the project's own tests included);
* the run's record budget, whatever layer gave it, with the file its spend is counted in
  (one budget for the run: a child process shares it, never starts afresh), and the price
  table (``APIREC_PRICES``), which a dollar budget and the summary's savings need.

The variables are set before any test (or conftest fixture) runs, so a recording opened at
import of a ``conftest.py`` sees only what the environment held before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from apirec.record.modes import parse_mode

# option (its dest) -> the variable the recorder reads it from, and how its value is written
COMMAND_LINE: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("apirec_mode", "APIREC_MODE", lambda v: parse_mode(v).value),
    ("apirec_block_network", "APIREC_BLOCK_NETWORK", str),
    ("apirec_allow_hosts", "APIREC_ALLOW_HOSTS", lambda v: ",".join(v)),
    ("apirec_max_age", "APIREC_MAX_AGE", lambda v: str(v).strip()),
    ("apirec_expired", "APIREC_EXPIRED", lambda v: str(v).strip()),
    ("apirec_repeats", "APIREC_REPEATS", lambda v: str(v).strip()),
    ("apirec_replay_timing", "APIREC_REPLAY_TIMING", lambda v: str(v).strip()),
    ("apirec_remote", "APIREC_REMOTE", str),  # "" too: no remote
)

_SAVED = pytest.StashKey[dict[str, str | None]]()


def command_line_variables(config: pytest.Config) -> dict[str, str]:
    """The variables of the run-level options given on the command line."""
    variables: dict[str, str] = {}
    for option, name, written in COMMAND_LINE:
        value = config.getoption(option, None)
        if value is None or value == [] or (value == "" and name != "APIREC_REMOTE"):
            continue
        variables[name] = written(value)
    return variables


def export(config: pytest.Config, variables: dict[str, str]) -> None:
    """Set ``variables`` for the rest of the run (called once, by the plugin's configure,
    after every option was checked); :func:`unexport` puts back what they replaced."""
    saved = config.stash.setdefault(_SAVED, {})
    for name, value in variables.items():
        saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def unexport(config: pytest.Config) -> None:
    restore(config.stash.get(_SAVED, {}))
    config.stash[_SAVED] = {}


def restore(saved: dict[str, str | None]) -> None:
    """Put back the variables as they were: ``None`` means it was not set."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
