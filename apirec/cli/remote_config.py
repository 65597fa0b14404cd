"""Which remote store a command reads payloads from (the commands that read answers, through
:mod:`apirec.cli.answers`; ``push`` and ``pull``).

The remote is, first found (:func:`apirec.record.layers.first_given`, the order of every
setting, the pytest plugin's too): ``--remote URL``; the ini key ``apirec_remote`` of the
pytest configuration that governs the recordings' directory (the nearest ``pytest.ini``,
``pyproject.toml`` with ``[tool.pytest.ini_options]``, ``tox.ini`` or ``setup.cfg`` with a
``pytest`` section, looking up from the directory, as pytest does); ``APIREC_REMOTE``. The
client's settings (credentials, endpoints) come from the environment, as in a test run.
"""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path
from typing import Any

from apirec.record.layers import first_given

ENV_REMOTE = "APIREC_REMOTE"  # as apirec.record.settings reads it (not imported: ls stays light)
_INI = "apirec_remote"


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
    """``apirec_remote`` of the first pytest configuration file above ``directory``."""
    try:
        start = directory.resolve()
    except OSError:
        return None
    for folder in (start, *start.parents):
        for name in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            path = folder / name
            if not path.is_file():
                continue
            found, value = _read(path)
            if found:  # pytest stops at the first file that configures it
                return value
    return None


def _read(path: Path) -> tuple[bool, str | None]:
    """Whether ``path`` configures pytest, and its ``apirec_remote`` if it has one."""
    try:
        if path.name == "pyproject.toml":
            with open(path, "rb") as f:
                ini: Any = tomllib.load(f).get("tool", {}).get("pytest", {}).get("ini_options")
            if not isinstance(ini, dict):
                return False, None
            value = ini.get(_INI)
            return True, (value.strip() or None) if isinstance(value, str) else None
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
    except (OSError, ValueError, configparser.Error):
        return False, None
    section = "pytest" if path.name == "pytest.ini" else "tool:pytest"
    if path.name == "tox.ini":
        section = "pytest"
    if not parser.has_section(section):
        return path.name == "pytest.ini", None
    value = parser.get(section, _INI, fallback="").strip()
    return True, value or None
