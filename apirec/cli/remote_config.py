"""Which remote store a command reads payloads from (the commands that read answers, through
:mod:`apirec.cli.answers`; ``push`` and ``pull``).

The remote is, first found: ``--remote URL``; ``APIREC_REMOTE``; the ini key
``apirec_remote`` of the pytest configuration that governs the recordings' directory (the
nearest ``pytest.ini``, ``pyproject.toml`` with ``[tool.pytest.ini_options]``, ``tox.ini`` or
``setup.cfg`` with a ``pytest`` section, looking up from the directory, as pytest does). The
client's settings (credentials, endpoints) come from the environment, as in a test run.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from pathlib import Path
from typing import Any

ENV_REMOTE = "APIREC_REMOTE"
_INI = "apirec_remote"


def configured_remote(given: str | None, directory: Path) -> str | None:
    """The remote's URL for recordings in ``directory`` (see the module docstring), or None;
    ``""`` given or set means none."""
    if given is not None:
        return given or None
    env = os.environ.get(ENV_REMOTE)
    if env is not None:
        return env or None
    return _from_ini(directory)


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
