"""Which remote store ``push``, ``pull``, ``gc`` and ``verify`` talk to.

``--remote URL``, else ``apirec_remote`` in the pytest ini file that pytest itself would read
for the directories given (the first of ``pytest.ini``, ``.pytest.ini``, ``pyproject.toml``
with ``[tool.pytest.ini_options]`` or ``[tool.pytest]``, ``tox.ini`` with ``[pytest]`` and
``setup.cfg`` with ``[tool:pytest]``, found in their common ancestor or a directory above
it), else ``APIREC_REMOTE``: the plugin's precedence (:mod:`apirec.pytest.remote`), command
line, then ini, then environment, so ``pull`` fetches from the store the tests will read.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Sequence
from pathlib import Path

from apirec.cli.base import UsageError

ENV = "APIREC_REMOTE"
INI = "apirec_remote"


def remote_url(given: str | None, dirs: Sequence[str], *, required: bool = True) -> str | None:
    """The remote's URL; a :class:`UsageError` when ``required`` and none is configured."""
    if given:
        return given
    found = from_ini(dirs)
    if found is not None:
        return found
    if from_env := os.environ.get(ENV, "").strip():
        return from_env
    if required:
        raise UsageError(
            f"no remote store: give --remote URL (s3://bucket/prefix, file:///path), set "
            f"{INI} in the pytest ini file, or set {ENV}"
        )
    return None


def from_ini(dirs: Sequence[str]) -> str | None:
    """``apirec_remote`` of the ini file pytest would read for ``dirs``, or None."""
    start = _common_ancestor(dirs)
    for directory in (start, *start.parents):
        found = _ini_in(directory)
        if found is not None:
            return found[1] or None
    return None


def _common_ancestor(dirs: Sequence[str]) -> Path:
    paths = [Path(d).resolve() for d in dirs] or [Path.cwd()]
    try:
        common = Path(os.path.commonpath([str(p) for p in paths]))
    except ValueError:  # different drives
        common = Path.cwd()
    return common if common.is_dir() else common.parent


def _ini_in(directory: Path) -> tuple[Path, str] | None:
    """The pytest configuration file in ``directory`` (as pytest picks it) and its
    ``apirec_remote`` ("" when unset), or None when there is none."""
    for name in ("pytest.ini", ".pytest.ini"):
        path = directory / name
        if path.is_file():
            return path, _ini_value(path, "pytest")
    path = directory / "pyproject.toml"
    if path.is_file():
        found = _toml_value(path)
        if found is not None:
            return path, found
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = directory / name
        if path.is_file() and _has_section(path, section):
            return path, _ini_value(path, section)
    return None


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot be read as an ini file: {e}") from None
    return parser


def _has_section(path: Path, section: str) -> bool:
    return _read(path).has_section(section)


def _ini_value(path: Path, section: str) -> str:
    parser = _read(path)
    return parser.get(section, INI, fallback="").strip() if parser.has_section(section) else ""


def _toml_value(path: Path) -> str | None:
    """``apirec_remote`` of pyproject.toml's pytest table ("" when unset), or None when it
    has no pytest table (then pytest looks further up)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{path}: cannot be read as TOML: {e}") from None
    tool = data.get("tool", {})
    pytest_table = tool.get("pytest") if isinstance(tool, dict) else None
    if not isinstance(pytest_table, dict):
        return None
    options = pytest_table.get("ini_options")
    table = options if isinstance(options, dict) else pytest_table
    value = table.get(INI, "")
    if not isinstance(value, str):
        raise UsageError(f"{path}: {INI} must be a string (a URL), not {value!r}")
    return value.strip()
