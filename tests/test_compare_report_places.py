"""The compare report names where each stored answer is, so that a person can open it: for the
JSON store its file; for a msgpack store the store's file (``file``) and the answer's name in
it (``entry``), which ``apirec show FILE::ENTRY`` shows. Through the real plugin (pytester)
and the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .plugin_helpers import setup

TESTS = """
import os

import apirec


@apirec.record(name="svc.ask")
def ask(question):
    return {"question": question, "answer": os.environ["ANSWER"]}


def test_ask(apirec):
    ask("what do llamas eat")
"""


def _show(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apirec", "show", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_the_report_names_a_file_that_exists_and_an_entry_show_opens(pytester, monkeypatch, store):
    setup(pytester)
    pytester.makepyfile(test_ask=TESTS)
    monkeypatch.setenv("ANSWER", "grass")
    pytester.runpytest("--apirec-mode=record", f"--apirec-store={store}").assert_outcomes(passed=1)
    monkeypatch.setenv("ANSWER", "hay")
    result = pytester.runpytest(
        "--apirec-mode=compare", f"--apirec-store={store}", "--apirec-compare-report=r.json"
    )
    report = json.loads((pytester.path / "r.json").read_text())
    ((call,),) = report["tests"].values()
    assert call["outcome"] == "content"
    file = Path(call["file"])
    if not file.is_absolute():
        file = pytester.path / file
    assert file.is_file(), call["file"]  # a path that exists
    if store == "json":
        assert call["entry"] is None and file.name == f"{call['key']}.json"
        target = str(file)
    else:
        assert file.name == "recordings.apirec" and call["entry"] == f"{call['key']}.json"
        target = f"{file}::{call['entry']}"
        result.stdout.fnmatch_lines([f"*recordings.apirec::{call['entry']}*"])  # the summary
    shown = _show(target)
    assert shown.returncode == 0, shown.stderr
    assert f"file:      {target}" in shown.stdout and '"answer": "grass"' in shown.stdout
    if store == "msgpack":
        missing = _show(f"{file}::{'0' * 32}.json")
        assert missing.returncode == 2 and "holds no recording named" in missing.stderr
