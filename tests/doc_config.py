"""How a ``toml`` or ``ini`` block of the docs is shown true (see tests/doc_blocks.py).

It must parse (``tomllib``, ``configparser``). A pytest configuration (``[tool.pytest.ini_options]``
of pyproject.toml, ``[pytest]`` of pytest.ini, ``[tool:pytest]`` of setup.cfg) is then written
as that file beside a passing test and given to the real pytest with ``--strict-config``: an
unknown key (``apirec_no_such_key``), an unknown option in ``addopts`` (``--apirec-no-such``)
and a value the plugin refuses (``apirec_mode = bogus``) each stop the run with pytest's or the
plugin's own message; a block that sets ``asyncio_mode`` must also raise no deprecation warning
(pytest-asyncio's unset ``asyncio_default_fixture_loop_scope``). A price table (a block
headed ``# prices.toml``) is given to ``--apirec-prices``. Any other block is only parsed.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.doc_blocks import Block

PASSING_TEST = "def test_nothing():\n    pass\n"
PYTEST_SECTIONS = {"pytest": "pytest.ini", "tool:pytest": "setup.cfg"}


def _files(block: Block) -> tuple[dict[str, str], list[str]]:
    """The files the block is written as, and the options pytest is given with them; raises
    ValueError when the block does not parse."""
    if block.lang == "toml":
        try:
            parsed = tomllib.loads(block.text)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"not valid TOML: {error}") from None
        if "ini_options" in parsed.get("tool", {}).get("pytest", {}):
            return {"pyproject.toml": block.text}, []
        if block.text.startswith("# prices.toml"):
            return {"prices.toml": block.text}, ["--apirec-prices=prices.toml"]
        return {}, []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(block.text)
    except configparser.Error as error:
        raise ValueError(f"not valid ini: {error}") from None
    name = next((PYTEST_SECTIONS[s] for s in parser.sections() if s in PYTEST_SECTIONS), None)
    return ({name: block.text}, []) if name else ({}, [])


def config_problem(block: Block, cwd: Path, env: dict[str, str]) -> str | None:
    """Why pytest (with apirec's plugin) refuses the block as its configuration, or None."""
    try:
        files, options = _files(block)
    except ValueError as error:
        return f"{block.where}: {error}"
    if not files:
        return None
    for name, text in files.items():
        (cwd / name).write_text(text + "\n", encoding="utf-8")
    (cwd / "test_nothing.py").write_text(PASSING_TEST, encoding="utf-8")
    # A block that sets up pytest-asyncio must not teach a deprecation its user then sees on
    # every run (``asyncio_mode`` alone: "asyncio_default_fixture_loop_scope is unset"); other
    # blocks are a part of a configuration, not the whole of it.
    strict = ["--strict-config"]
    if "asyncio_" in block.text:
        strict += ["-W", "error::pytest.PytestDeprecationWarning"]
    argv = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", *strict, *options]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *argv, "test_nothing.py"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return (
            f"{block.where}: pytest refuses it as {', '.join(files)}:\n{done.stdout}{done.stderr}"
        )
    return None
