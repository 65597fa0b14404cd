"""Which remote store a command reads payloads from (the commands that read answers, through
:mod:`apirec.cli.answers`; ``push`` and ``pull``).

The remote is, first found (:func:`apirec.record.layers.first_given`, the order of every
setting, the pytest plugin's too): ``--remote URL``; the ini key ``apirec_remote`` (or an
``--apirec-remote`` in its ``addopts``) of the pytest configuration file that governs the
recordings' directory, found by the installed pytest itself looking up from the directory
(``pytest.toml``, ``pytest.ini``, ``pyproject.toml``... as that pytest reads them; the
``PYTEST_ADDOPTS`` variable is not read); ``APIREC_REMOTE``. The client's settings
(credentials, endpoints) come from the environment, as in a test run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apirec.record.layers import first_given

ENV_REMOTE = "APIREC_REMOTE"  # as apirec.record.settings reads it (not imported: ls stays light)
_INI = "apirec_remote"
_OPTION = "--apirec-remote"


def configured_remote(given: str | None, directory: Path) -> str | None:
    """The remote's URL for recordings in ``directory`` (see the module docstring), or None;
    ``--remote ""`` means none."""
    found = first_given(
        command_line=("--remote", given),
        ini=("ini apirec_remote", _from_ini(directory)),
        environment=ENV_REMOTE,
    )
    return (found.value or None) if found is not None else None


def _from_ini(directory: Path) -> str | None:
    """``apirec_remote`` of the pytest configuration file that governs ``directory``, found
    by the installed pytest's own discovery (imported here only: ``ls`` stays light); an
    ``--apirec-remote`` in its ``addopts`` wins, as in a test run."""
    try:
        start = directory.resolve()
    except OSError:
        return None
    try:
        from _pytest.config import UsageError, findpaths  # pytest's discovery, as a run finds it
    except ImportError:  # no pytest here: no test run's configuration to read either
        return None

    try:
        found = findpaths.locate_config(start, [start])
    except (UsageError, ValueError, OSError):  # a configuration pytest refuses: the run says why
        return None
    except BaseException as e:  # pytest's fail(): an outcome, not an Exception
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        return None
    config: dict[str, Any] = found[2] if isinstance(found[2], dict) else {}
    from_addopts = _option(_value(config.get("addopts")))
    if from_addopts is not None:
        return from_addopts.strip() or None
    value = _value(config.get(_INI))
    return (value.strip() or None) if isinstance(value, str) else None


def _value(entry: object) -> object:
    """An ini value as pytest 9 keeps it (a ConfigValue) or as earlier pytests do."""
    return getattr(entry, "value", entry)


def _option(addopts: object) -> str | None:
    """The value of the last ``--apirec-remote`` in ``addopts`` (a str or a TOML list)."""
    import shlex

    if isinstance(addopts, str):
        try:
            words = shlex.split(addopts)
        except ValueError:
            return None
    elif isinstance(addopts, list):
        words = [str(w) for w in addopts]
    else:
        return None
    found = None
    for i, word in enumerate(words):
        if word.startswith(_OPTION + "="):
            found = word.removeprefix(_OPTION + "=")
        elif word == _OPTION and i + 1 < len(words):
            found = words[i + 1]
    return found
