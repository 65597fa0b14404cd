"""Every option of a ``pytest`` command a page shows, checked against the real pytest's parser
(see tests/doc_commands.py).

The options are read once from the parser pytest builds with the plugins installed (its own, and
those the dev extras install: apirec's, xdist, asyncio, hypothesis, anyio): each option's
strings, whether it takes a value and its choices. A command's arguments are then parsed by an
``argparse`` parser made of them, so an unknown option (``--no-such-pytest-option``), a missing
value or a bad choice (``--tb=verbose``) fails with argparse's message; what is left are the
command's paths and node ids.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
from functools import cache
from typing import Any

# run in a fresh interpreter in an empty directory: the parser pytest builds with every
# installed plugin (entry points), as each option's strings, nargs and choices
DUMP = """
import json
from _pytest.config import get_config
config = get_config()
config.pluginmanager.load_setuptools_entrypoints("pytest11")
parser = getattr(config._parser, "optparser", None) or config._parser._getparser()
options = []
for action in parser._actions:
    if action.option_strings:
        options.append({
            "strings": action.option_strings,
            "nargs": action.nargs,
            "choices": list(action.choices) if action.choices else None,
        })
print(json.dumps(options))
"""


@cache
def _options() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-c", DUMP], cwd=tmp, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    options: list[dict[str, Any]] = json.loads(done.stdout)
    return options


@cache
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest", add_help=False, allow_abbrev=False)
    for option in _options():
        nargs = option["nargs"]
        kwargs: dict[str, Any] = {"nargs": nargs} if nargs not in (0, None) else {}
        if nargs == 0:
            kwargs = {"action": "count"}
        elif option["choices"]:
            kwargs["choices"] = option["choices"]
        parser.add_argument(*option["strings"], dest=option["strings"][-1], **kwargs)
    return parser


def parse(argv: list[str]) -> tuple[str | None, list[str]]:
    """What pytest's parser says is wrong with ``argv`` (the arguments after ``pytest``), or
    None; and the arguments that are not options (paths, node ids)."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            _, rest = _parser().parse_known_args(argv)
    except SystemExit:
        return stderr.getvalue().strip().splitlines()[-1].removeprefix("pytest: "), []
    unknown = [arg for arg in rest if arg.startswith("-") and arg != "--"]
    if unknown:
        return f"error: unrecognized arguments: {' '.join(unknown)}", []
    return None, [arg for arg in rest if arg != "--"]
