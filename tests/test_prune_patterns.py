"""Review of issue 20 point 8: ``prune --test`` must select exact node ids or globs, and never
delete more than asked. Two ways it deletes recordings of tests the user did not name."""

from __future__ import annotations

from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main


@apirec.record(name="app.ask")
def ask(n: int) -> str:
    return f"answer {n}"


def _store(root: Path, ids: list[str]) -> Path:
    for n, test_id in enumerate(ids):
        with apirec.recording(root, mode="record", test_id=test_id):
            ask(n)
    return root


def _remaining(capsys: pytest.CaptureFixture[str], root: Path) -> set[str]:
    import json

    assert main(["ls", str(root), "--json"]) == 0
    return {r["test_id"] for r in json.loads(capsys.readouterr().out)}


def test_a_whole_node_id_selects_that_test_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # two different tests: the unit suite's and the integration suite's, same file name
    root = _store(
        tmp_path / "rec",
        ["tests/test_api.py::test_login", "integration/tests/test_api.py::test_login"],
    )
    assert main(["prune", str(root), "--test", "tests/test_api.py::test_login"]) == 0
    capsys.readouterr()
    # expected: the whole node id given is that test; happened: both deleted
    assert _remaining(capsys, root) == {"integration/tests/test_api.py::test_login"}


def test_a_glob_over_test_names_does_not_select_other_files_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs/cli.md: --test 'test_week*' selects the tests named test_week...
    root = _store(
        tmp_path / "rec",
        ["tests/test_weather.py::test_week", "tests/test_weekly_report.py::test_pdf_layout"],
    )
    assert main(["prune", str(root), "--test", "test_week*"]) == 0
    capsys.readouterr()
    # expected: test_pdf_layout kept (its name is not test_week*); happened: deleted, because
    # the glob runs over "test_weekly_report.py::test_pdf_layout" and * crosses "::"
    assert _remaining(capsys, root) == {"tests/test_weekly_report.py::test_pdf_layout"}


@pytest.mark.parametrize(
    ("test_id", "pattern", "selected"),
    [
        ("tests/test_api.py::test_login", "tests/test_api.py::test_login", True),
        ("integration/tests/test_api.py::test_login", "tests/test_api.py::test_login", False),
        ("integration/tests/test_api.py::test_login", "test_api.py::test_login", True),
        ("integration/tests/test_api.py::test_login", "*/tests/test_api.py::test_login", True),
        ("tests/test_weather.py::test_week", "*::test_w?ek", True),
        ("tests/test_weather.py::test_week", "test_week*", True),
        ("tests/test_weekly_report.py::test_pdf_layout", "test_week*", False),
        ("tests/test_weekly_report.py::test_pdf_layout", "test_week*::*", True),
        ("tests/t.py::TestA::test_one[a::b]", "TestA::test_one[[]*", True),
        ("tests/t.py::TestA::test_one[x]", "test_one*", True),
        ("tests/t.py::test_10", "test_1", False),
    ],
)
def test_how_a_test_pattern_matches(test_id: str, pattern: str, selected: bool) -> None:
    from apirec.cli.common import test_matches

    assert test_matches(test_id, pattern) is selected
