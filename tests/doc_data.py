"""How a ``json``, ``yaml`` or ``diff`` block of the docs is shown true (see tests/doc_blocks.py).

- ``json`` must parse; a fragment (``"ledger": {...}``, the members of an object) is parsed
  inside ``{}``. A block that shows what apirec writes is listed in ``WRITTEN_BY`` with what
  writes it: a recording (``RECORDINGS``: a few calls recorded in a fresh directory, one of each
  kind: a list of objects, a reply with its usage, a stream, a payload over 64 KiB) or a compare
  report (``COMPARE_REPORT``: a pytest run in compare mode whose answer changed type). Each key
  the page shows must then be one the code writes, at the same place (``missing_keys``): a
  whole object is compared with what was written, a fragment with any object written that holds
  its first key; a list's items each with some item written. A value's type must be the one
  written too (a string, a number, a boolean, null, an object, a list). Under ``args`` (the call's
  arguments), ``__data__`` (an object's fields) and ``versions`` (the packages installed) the
  keys are the user's, not apirec's: not compared. Any other ``json`` block must be marked
  ``<sub>Not run by apirec's CI: REASON.</sub>`` (it is then only parsed).
- ``yaml`` must parse (PyYAML: installed with the dev extras, through moto); a pre-commit
  configuration's hooks from apirec's repository must be hooks of its ``.pre-commit-hooks.yaml``,
  and each hook's command (its ``entry``, else the one apirec's hook gives, with its ``args``
  and a file) is checked as a shell block's (tests/doc_commands.py).
- ``diff`` shows a change to make to a file: the file named (``--- a/PATH``, else the last
  path in backticks in the lines before the block, from the page's directory) must hold its
  ``-`` and context lines as whole lines (indentation included), together and in order, and
  for a ``.py`` file the result of the change must compile.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.doc_blocks import ROOT, Block

# under these keys the names are the user's (arguments, fields, packages), not apirec's
USERS_KEYS = {"args", "__data__", "versions"}
RECORD_CALLS = """
import datetime
import apirec

USAGE = {"prompt_tokens": 1200, "completion_tokens": 300,
         "prompt_tokens_details": {"cached_tokens": 1024}}

@apirec.record(name="myapp.search")
def search(query):
    return [datetime.date(2026, 1, 2)]

@apirec.record(name="myapp.chat")
def chat(text):
    return {"model": "gpt-4o-2024-08-06", "usage": USAGE}

@apirec.record(name="myapp.stream")
def stream(text):
    yield {"model": "gpt-4o-2024-08-06", "delta": "Hi"}
    yield {"model": "gpt-4o-2024-08-06", "usage": USAGE}

@apirec.record(name="tts.speak")
def speak(text):
    return b"x" * 100_000

with apirec.recording("recordings", mode="record"):
    # in a test, as a page's recordings are (a "test_id"), and one outside any test (null)
    with apirec.test_context("tests/test_agent.py::test_agent_finds_llamas"):
        search("llamas"), chat("hi"), list(stream("hi")), speak("hello")
    search("alpacas")
"""
# a service whose answer changes type between the recording and the compare run
WEATHER = """
import os
import apirec

@apirec.record(name="weather.today")
def today():
    return {"temp": "20" if os.environ.get("CHANGED") else 20}
"""
WEATHER_TEST = "import weather\n\ndef test_today(apirec):\n    weather.today()\n"
RECORDINGS = "a recording apirec writes"
COMPARE_REPORT = "the compare report (--apirec-compare-report)"
WRITTEN_BY = {
    ("docs/recordings-and-stores.md",
     '"test_id": "tests/test_agent.py::test_agent_finds_llamas",'): RECORDINGS,
    ("docs/recordings-and-stores.md", '"ledger": {"seconds": 1.84, "first_chunk_seconds": 0.31, '
     '"model": "gpt-4o-2024-08-06",'): RECORDINGS,
    ("docs/staying-true.md", '"recorded_at": "2026-12-02T23:15:04Z",'): RECORDINGS,
    ("docs/staying-true.md", '"apirec_compare": 1,'): COMPARE_REPORT,
    ("docs/staying-true.md", '"body": {"__type__": "builtins.bytes", "__blob__": "3f76c0a6…e2f", '
     '"size": 102400}'): RECORDINGS,
}  # fmt: skip


def json_key(block: Block) -> tuple[str, str]:
    """The block as ``WRITTEN_BY`` names it: its page and its first line that is not a brace."""
    page = block.page.relative_to(ROOT) if ROOT in block.page.parents else block.page
    first = next(line.strip() for line in block.text.splitlines() if line.strip() not in "{[")
    return (str(page), first)


def parse_json(block: Block) -> tuple[Any, bool]:
    """The block's value, and whether it is a fragment (members of an object, parsed inside
    ``{}``); raises ValueError naming the block when it does not parse."""
    text = block.text.strip()
    fragment = not text.startswith(("{", "["))
    try:
        return json.loads("{" + text + "}" if fragment else text), fragment
    except json.JSONDecodeError as error:
        raise ValueError(f"{block.where}: not valid JSON: {error}") from None


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _missing(shown: Any, written: Any, path: str) -> list[str]:
    if isinstance(shown, dict):
        if not isinstance(written, dict):
            return [f"{path or '.'}: an object on the page, {type(written).__name__} written"]
        wrong = [f"{path}.{key}".lstrip(".") for key in shown if key not in written]
        for key, value in shown.items():
            if key in written and key not in USERS_KEYS:
                wrong += _missing(value, written[key], f"{path}.{key}")
        return wrong
    if isinstance(shown, list):
        if not isinstance(written, list):
            return [f"{path or '.'}: a list on the page, {type(written).__name__} written"]
        wrong = []
        for item in shown:
            tried = [_missing(item, other, f"{path}[]") for other in written]
            if all(tried):
                wrong += min(tried, key=len) if tried else [f"{path}[]: an empty list written"]
        return wrong
    if _kind(shown) != _kind(written):
        return [f"{path or '.'}: {_kind(shown)} {shown!r} on the page, {_kind(written)} written"]
    return []


def _kind(value: Any) -> str:
    """A JSON value's type as compared: an int and a float are both numbers."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return {str: "a string", dict: "an object", list: "a list"}.get(type(value), "a value")


def missing_keys(shown: Any, fragment: bool, written: list[Any]) -> list[str]:
    """The keys the page shows that none of ``written`` holds at their place ([] when one
    does): see the module docstring."""
    if fragment:
        first = next(iter(shown))
        written = [obj for each in written for obj in _objects(each) if first in obj]
    tried = [_missing(shown, each, "") for each in written]
    return min(tried, key=len) if tried else ["nothing written to compare with"]


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"


def written(what: str, tmp: Path, env: dict[str, str]) -> list[Any]:
    """What the code writes of ``what`` (a ``WRITTEN_BY`` value), made in ``tmp``."""
    if what == RECORDINGS:
        _run([sys.executable, "-c", RECORD_CALLS], tmp, env)
        return [json.loads(p.read_text()) for p in (tmp / "recordings").glob("*.json")]
    assert what == COMPARE_REPORT, what
    (tmp / "tests").mkdir()
    (tmp / "weather.py").write_text(WEATHER)
    (tmp / "tests" / "test_weather.py").write_text(WEATHER_TEST)
    (tmp / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    _run([*pytest, "--apirec-mode=record"], tmp, env)
    report = ["--apirec-mode=compare", "--apirec-compare-report=compare.json"]
    subprocess.run([*pytest, *report], cwd=tmp, env={**env, "CHANGED": "1"}, capture_output=True)
    return [json.loads((tmp / "compare.json").read_text())]


def yaml_problem(block: Block, env: dict[str, str] | None = None) -> str | None:
    """Why the ``yaml`` block is wrong (see the module docstring), or None."""
    try:
        parsed = yaml.safe_load(block.text)
    except yaml.YAMLError as error:
        return f"{block.where}: not valid YAML: {error}"
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    ours = {hook["id"]: hook for hook in hooks}
    repos = parsed.get("repos", []) if isinstance(parsed, dict) else []
    for repo in repos:
        apirecs = str(repo.get("repo", "")).rstrip("/").endswith("/apirec")
        if apirecs:
            unknown = {hook.get("id") for hook in repo.get("hooks", [])} - set(ours)
            if unknown:
                return f"{block.where}: apirec has no pre-commit hook {sorted(unknown)}"
        for hook in repo.get("hooks", []):
            default = ours.get(hook.get("id"), {}) if apirecs else {}
            if wrong := _hook_problems(block, {**default, **hook}, env):
                return f"{block.where}: hook {hook.get('id')}: " + "; ".join(wrong)
    return None


def _hook_problems(block: Block, hook: dict[str, Any], env: dict[str, str] | None) -> list[str]:
    """Why the hook's command (its ``entry``, its ``args``, and a file when pre-commit passes
    files) would not work, as a shell block's commands are checked; [] when it would."""
    from tests.doc_commands import command_problems

    if not hook.get("entry"):
        return []
    argv = [*shlex.split(str(hook["entry"])), *(str(arg) for arg in hook.get("args", []))]
    if hook.get("pass_filenames", True):
        argv.append("tests/recordings/a.json")
    command = Block(block.page, block.line, "bash", shlex.join(argv), ())
    return command_problems(command, dict(os.environ) if env is None else env)


def _diff_file(block: Block) -> Path | None:
    header = re.search(r"^--- (?:a/)?(\S+)", block.text, re.M)
    if header:
        return block.page.parent / header.group(1)
    before = block.page.read_text("utf-8").splitlines()[max(0, block.line - 6) : block.line - 1]
    named = re.findall(r"`([\w./-]+\.\w+)`", "\n".join(before))
    return block.page.parent / named[-1] if named else None


def diff_problem(block: Block) -> str | None:
    """Why the ``diff`` block does not apply to the file it changes (see the module
    docstring), or None."""
    path = _diff_file(block)
    if path is None or not path.is_file():
        return f"{block.where}: names no file it changes (--- a/PATH, or `PATH` before it)"
    lines = [line for line in block.text.splitlines() if not line.startswith(("---", "+++", "@@"))]
    old = [line[1:] for line in lines if not line.startswith("+")]
    new = [line[1:] for line in lines if not line.startswith("-")]
    text = path.read_text("utf-8").splitlines()
    # whole lines of the file, indentation included, one after the other
    at = next((n for n in range(len(text)) if text[n : n + len(old)] == old), None)
    if at is None:
        return (
            f"{block.where}: {path.name} does not hold the lines the diff changes:\n"
            + "\n".join(old)
        )
    changed = "\n".join([*text[:at], *new, *text[at + len(old) :]]) + "\n"
    if path.suffix == ".py":
        try:
            compile(textwrap.dedent(changed), str(path), "exec")
        except SyntaxError as error:
            return f"{block.where}: {path.name} changed so does not compile: {error}"
    return None
