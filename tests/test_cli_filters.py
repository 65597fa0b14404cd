"""``--test`` and ``--function`` of ``apirec prune`` and ``apirec ls``: a node id or a function
name, whole or its end, exactly or as a shell-style glob; never a substring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main


@apirec.record(name="app.ask")
def ask(n: int) -> str:
    return f"answer {n}"


@apirec.record(name="app.ask_more")
def ask_more(n: int) -> str:
    return f"more {n}"


TESTS = ["test_1", "test_10", "test_11", "test_1[x]", "TestA::test_1"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    for n, name in enumerate(TESTS):
        with apirec.recording(root, mode="record", test_id=f"tests/test_m.py::{name}"):
            ask(n)
            ask_more(n)
    return root


def _listed(capsys: pytest.CaptureFixture[str], root: Path, *filters: str) -> list[tuple[str, str]]:
    assert main(["ls", str(root), "--json", *filters]) == 0
    rows = json.loads(capsys.readouterr().out)
    return sorted((r["test_id"].split("::", 1)[1], r["function"]) for r in rows)


def test_prune_test_1_deletes_test_1_only(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prune", str(store), "--test", "test_1"]) == 0
    out = capsys.readouterr().out
    # test_1, its parametrized instance test_1[x] (as pytest takes it) and TestA::test_1
    assert out.splitlines()[-1] == "deleted 6 recordings"
    left = _listed(capsys, store)
    assert {test for test, _ in left} == {"test_10", "test_11"}


@pytest.mark.parametrize(
    ("pattern", "tests"),
    [
        ("tests/test_m.py::test_1", {"test_1", "test_1[x]"}),  # the whole node id, instances
        ("test_m.py::test_1", {"test_1", "test_1[x]"}),
        ("TestA::test_1", {"TestA::test_1"}),
        ("test_1[x]", {"test_1[x]"}),  # brackets of a parametrized id: exact first
        ("test_1*", {"test_1", "test_10", "test_11", "test_1[x]", "TestA::test_1"}),
        ("test_1?", {"test_10", "test_11"}),
        ("*::test_1", {"test_1", "test_1[x]", "TestA::test_1"}),
        ("est_1", set()),  # not a substring
        ("test_m.py", set(TESTS)),  # a test file: every test in it (as pytest takes it)
        ("tests/test_m.py", set(TESTS)),
        ("m.py", set()),  # a file's name, not its end
    ],
)
def test_test_patterns(
    store: Path, capsys: pytest.CaptureFixture[str], pattern: str, tests: set[str]
) -> None:
    assert {test for test, _ in _listed(capsys, store, "--test", pattern)} == tests
    assert main(["prune", str(store), "--test", pattern, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f"would delete {2 * len(tests)} recording")


@pytest.mark.parametrize(
    ("pattern", "functions"),
    [
        ("ask", {"app.ask"}),
        ("app.ask", {"app.ask"}),
        ("ask*", {"app.ask", "app.ask_more"}),
        ("app.*", {"app.ask", "app.ask_more"}),
        ("app", set()),
        ("sk", set()),
    ],
)
def test_function_patterns(
    store: Path, capsys: pytest.CaptureFixture[str], pattern: str, functions: set[str]
) -> None:
    assert {f for _, f in _listed(capsys, store, "--function", pattern)} == functions
    assert main(["prune", str(store), "--function", pattern]) == 0
    capsys.readouterr()
    assert {f for _, f in _listed(capsys, store)} == {"app.ask", "app.ask_more"} - functions


def test_ls_with_no_path_lists_the_recordings_directories_not_every_json_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`apirec ls` alone read every JSON file under `.` (package.json, data files, coverage
    reports) and called each a broken recording: it lists the recordings/ directories."""
    for where in ("tests/recordings", "tests/unit/recordings"):
        with apirec.recording(tmp_path / where, mode="record", test_id=f"{where}::test_x"):
            ask(1)
    (tmp_path / "package.json").write_text('{"name": "web"}')
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.json").write_text("[1, 2]")
    monkeypatch.chdir(tmp_path)
    assert main(["ls", "--json"]) == 0
    out, err = capsys.readouterr()
    assert sorted(row["test_id"] for row in json.loads(out)) == [
        "tests/recordings::test_x",
        "tests/unit/recordings::test_x",
    ]
    assert err == ""


def test_ls_with_no_path_and_no_recordings_directory_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "package.json").write_text('{"name": "web"}')
    monkeypatch.chdir(tmp_path)
    assert main(["ls"]) == 2
    assert "apirec ls DIR" in capsys.readouterr().err
