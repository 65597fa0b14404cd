"""Long commands show their progress on a terminal (stderr), and nothing when stderr is piped
or with ``-q``: drift, verify, convert, scan and prune."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import apirec
from tests.terminal import ROOT, run_on_terminal


@apirec.record(name="app.answer")
def answer(n: int) -> dict[str, str]:
    return {"text": f"answer {n}"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "recordings"
    with apirec.recording(root, mode="record", test_id="tests/test_a.py::test_many"):
        for n in range(30):
            answer(n)
    return root


def _commands(store: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
    return {
        "drift": (["drift", str(store)], "drift: "),
        "verify": (["verify", str(store)], "verify: "),
        "convert": (["convert", str(store), str(tmp / "packed"), "--to", "msgpack"], "convert: "),
        "scan": (["scan", str(store)], "scan: "),
        "prune": (["prune", str(store), "--test", "test_none", "--dry-run"], "prune: "),
    }


@pytest.mark.parametrize("command", ["drift", "verify", "convert", "scan", "prune"])
def test_progress_on_a_terminal_and_not_when_piped_or_quiet(
    store: Path, tmp_path: Path, command: str
) -> None:
    argv, shown = _commands(store, tmp_path)[command]
    drawn = "\r" + shown  # a progress line starts over the line before
    code, terminal, out = run_on_terminal(argv, stream="stderr")
    assert code == 0, terminal + out
    assert drawn in terminal, repr(terminal)
    assert re.search(r"\r +\r", terminal.split(drawn)[-1]), repr(terminal)  # then erased
    # the results on stdout carry no progress ("scan: 3 of 4 ..."; "apirec scan: clean" is
    # scan's result, on stdout)
    assert not re.search(re.escape(shown) + r"\d", out), repr(out)

    if command == "convert":  # into a new directory each time
        argv[2] = str(tmp_path / "quiet")
    code, terminal, _ = run_on_terminal([*argv, "-q"], stream="stderr")
    assert code == 0 and drawn not in terminal, repr(terminal)

    if command == "convert":
        argv[2] = str(tmp_path / "piped")
    piped = subprocess.run(
        [sys.executable, "-m", "apirec", *argv], cwd=ROOT, capture_output=True, text=True
    )
    assert piped.returncode == 0 and "\r" not in piped.stderr, piped.stderr
